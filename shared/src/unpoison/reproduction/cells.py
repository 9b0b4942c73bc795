"""The cells of a reproduction: one (attack row, defense column) each, trained once and cached.

Each cell is keyed by a hash of everything that determines its result, runs once into
``<out>/cells/<key>/`` (TensorBoard logs, checkpoints, ``results.json``; ``unpoison.runner``), and
is read back instead of recomputed on the next run; a cell that was killed resumes from its
checkpoints. A cell whose ``results.json`` has another schema version (``unpoison.runner.
results``) is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unpoison.runner.fingerprint import FINGERPRINT
from unpoison.runner.results import RESULTS, SCHEMA_VERSION


@dataclass(frozen=True)
class Cell:
    """One (attack row, defense column) cell and the settings that determine its result."""

    attack: str  # the paper's row name
    defense: str  # the column's name
    config: Mapping[str, Any] = field(hash=False)

    @property
    def key(self) -> str:
        """A readable, content-addressed folder name."""
        digest = hashlib.sha256(
            json.dumps(self.config, sort_keys=True, default=str).encode()
        ).hexdigest()
        return f"{_slug(self.attack)}-{_slug(self.defense)}-{digest[:12]}"


def read_cell(folder: Path) -> dict[str, Any] | None:
    """The cell's results.json, or None when it has none in the current schema."""
    saved = folder / RESULTS
    if not saved.exists():
        return None
    record = json.loads(saved.read_text())
    return record if record.get("schema_version") == SCHEMA_VERSION else None


def run_cells(
    cells: Sequence[Cell],
    out: Path,
    run_cell: Callable[[Cell, Path], None],
    fresh: bool = False,
) -> tuple[dict[tuple[str, str], dict[str, Any]], float]:
    """Run (or read back) every cell; returns each cell's results.json and their summed seconds.

    ``run_cell(cell, folder)`` trains the cell and writes ``folder/results.json``. With ``fresh``,
    and for a cell written in an older schema, the cell's folder is deleted first. One line per
    cell reports ASR and both CAs.
    """
    records: dict[tuple[str, str], dict[str, Any]] = {}
    seconds = 0.0
    for number, cell in enumerate(cells, 1):
        folder = out / "cells" / cell.key
        record = read_cell(folder)
        # results in an older schema, or checkpoints from before runs had fingerprints
        outdated = record is None and not (folder / "checkpoints" / FINGERPRINT).exists()
        if (fresh or outdated) and folder.exists():
            shutil.rmtree(folder)
            record = None
        cached = record is not None
        if record is None:
            run_cell(cell, folder)
            record = json.loads((folder / RESULTS).read_text())
        records[(cell.attack, cell.defense)] = record
        seconds += record["wall_seconds"]
        metrics = record["metrics"]["model"]
        print(
            f"[{number}/{len(cells)}] {cell.attack} / {cell.defense}: ASR {metrics['asr']:.2f}  "
            f"CA_all {metrics['ca_all']:.2f}  CA_nontarget {metrics['ca_nontarget']:.2f}  "
            f"({record['wall_seconds']:.0f} s{', cached' if cached else ''})",
            flush=True,
        )
    return records, seconds


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
