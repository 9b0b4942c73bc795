"""``results.json``: what a finished run computed and everything needed to say how.

Schema (``SCHEMA_VERSION`` 2)::

    schema_version  2
    defense         {name, variant (null when the config is no named variant), config}
    poisoning       {dataset, attack: {name, ...parameters}, rate, target, selection, holdout}
    seed, precision, device (the device the run used, e.g. "cpu", "cuda:0")
    metrics         {group: {metric: value}}: "model" is the returned model's final test metrics
                    (ca_all, ca_nontarget, asr); other groups another model's or a stage's
    stage_seconds, wall_seconds, packages (versions), git_revision, finished_at
    reproduction    (cells only) {name, preset, column}

Version 1 (before the defense contract) kept flat, prefixed metrics and the config under the
method's name; a reproduction recomputes such a cell rather than guessing its layout.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from unpoison.logging import git_revision, package_versions, write_json_atomic

SCHEMA_VERSION = 2
RESULTS = "results.json"


def device_name(device: torch.device) -> str:
    """``device`` with its index, as the run used it (``cuda`` becomes e.g. ``cuda:0``)."""
    if device.type == "cuda" and device.index is None:
        return f"cuda:{torch.cuda.current_device()}"
    return str(device)


def write_results(
    run_dir: str | Path,
    *,
    fingerprint: Mapping[str, Any],
    variant: str | None,
    device: torch.device,
    metrics: Mapping[str, Mapping[str, float]],
    stage_seconds: Mapping[str, float],
    packages: tuple[str, ...] = (),
    reproduction: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``run_dir/results.json`` from the run's fingerprint (``unpoison.runner.fingerprint``)
    and what it computed; ``packages`` are distributions whose versions are recorded."""
    versions = package_versions()
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    record = {
        "schema_version": SCHEMA_VERSION,
        "defense": {**fingerprint["defense"], "variant": variant},
        "poisoning": fingerprint["poisoning"],
        "seed": fingerprint["seed"],
        "precision": fingerprint["precision"],
        "device": device_name(device),
        "metrics": {group: dict(values) for group, values in metrics.items()},
        "stage_seconds": dict(stage_seconds),
        "wall_seconds": sum(stage_seconds.values()),
        "packages": versions,
        "git_revision": git_revision(Path(__file__).parent),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if reproduction is not None:
        record["reproduction"] = dict(reproduction)
    path = Path(run_dir) / RESULTS
    write_json_atomic(path, record)
    return path
