"""The fingerprint of a run: everything that determines its result (dataset, attack and its
parameters, rate, target, selection, holdout, seed, defense and its config, precision).

Every run folder's ``checkpoints/fingerprint.json`` records it before the first epoch. Resuming
with anything different is refused before any work, naming the fields that differ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from unpoison.logging import write_json_atomic
from unpoison.train.checkpoint import LATEST

FINGERPRINT = "fingerprint.json"


class RunExistsError(ValueError):
    """The output folder already holds a run and resuming it was not asked for."""


def normalized(fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    """``fingerprint`` as it reads back from JSON (tuples become lists, paths strings)."""
    return json.loads(json.dumps(fingerprint, sort_keys=True, default=str))


def differing_fields(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """The dotted paths whose values differ between two fingerprints, sorted."""
    flat_saved, flat_wanted = _flatten(normalized(saved)), _flatten(normalized(wanted))
    return sorted(
        key
        for key in flat_saved.keys() | flat_wanted.keys()
        if flat_saved.get(key, "<absent>") != flat_wanted.get(key, "<absent>")
    )


def check_resumable(checkpoints: Path, fingerprint: Mapping[str, Any], resume: bool) -> None:
    """Before any work: refuse a folder that holds a run unless ``resume``, and a run made with
    other settings (or before runs had fingerprints) even then."""
    saved = checkpoints / FINGERPRINT
    if not saved.exists() and not (checkpoints / LATEST).exists():
        return  # nothing saved yet: a fresh run
    folder = checkpoints.parent
    if not resume:
        raise RunExistsError(
            f"{folder} already holds a run: pass --resume to continue it or pick another --out"
        )
    if not saved.exists():
        raise ValueError(f"{folder} holds a run without a {FINGERPRINT}: start it in a new folder")
    differ = differing_fields(json.loads(saved.read_text()), fingerprint)
    if differ:
        raise ValueError(
            f"{folder} holds a run with other settings ({', '.join(differ)}): "
            "repeat its settings to resume it, or pick another --out"
        )


def record(checkpoints: Path, fingerprint: Mapping[str, Any]) -> None:
    """Write the fingerprint of a new run (a resumed one keeps its own)."""
    if not (checkpoints / FINGERPRINT).exists():
        checkpoints.mkdir(parents=True, exist_ok=True)
        write_json_atomic(checkpoints / FINGERPRINT, normalized(fingerprint))


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}
