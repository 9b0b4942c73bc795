"""What every ``reproduce-*`` script shares: cached cells, verdicts, the RESULTS.md section.

A reproduction is a grid of cells, one per (attack row, defense). Each cell is keyed by a hash of
everything that determines its result, runs once into ``<out>/cells/<key>/`` (TensorBoard logs,
checkpoints, ``results.json``), and is read back instead of recomputed on the next run; a cell that
was killed resumes from its checkpoints. The scripts own what is paper-specific: the rows, the
defenses, and how one cell is trained.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from unpoison import attacks
from unpoison.attacks import Attack
from unpoison.data.split import ImageDataset, PoisonedSplit, Split
from unpoison.logging import TensorBoardLogger, write_results
from unpoison.report import Row, format_markdown, hardware_summary
from unpoison.train import Checkpointer, NoDefenseConfig, seed_everything, train_no_defense

# Qualitative claims of the mini presets (the papers' results, at digits scale). Our choice.
MIN_BACKDOOR_ASR = 90.0  # the undefended model must be backdoored
MAX_DEFENDED_ASR = 10.0  # the defense must remove the backdoor
MAX_CA_DROP = 3.0  # ... at a small cost in clean accuracy
# Numeric comparison (paper presets): within this many points counts as reproduced. Our choice.
TOLERANCE = {"ASR": 5.0, "CA": 2.0}


@dataclass(frozen=True)
class Cell:
    """One (attack row, defense) cell and the settings that determine its result."""

    attack: str  # the paper's row name
    defense: str
    config: Mapping[str, Any] = field(hash=False)

    @property
    def key(self) -> str:
        """A readable, content-addressed folder name."""
        digest = hashlib.sha256(
            json.dumps(self.config, sort_keys=True, default=str).encode()
        ).hexdigest()
        return f"{_slug(self.attack)}-{_slug(self.defense)}-{digest[:12]}"


@dataclass(frozen=True)
class CellData:
    """What a defense trains and is evaluated on in one cell (all on ``device``)."""

    poisoned: PoisonedSplit
    test: Split
    backdoor_test: Split
    num_classes: int
    target: int
    seed: int
    device: torch.device


# A defense in a reproduction: trains on the cell's data, logs, checkpoints into the folder it is
# given, and returns (final test metrics, seconds per stage).
Defense = Callable[[CellData, TensorBoardLogger, Path], tuple[dict[str, float], dict[str, float]]]


def no_defense(config: NoDefenseConfig) -> Defense:
    """The "No defense" column: plain training on the poisoned data."""

    def train(data: CellData, logger: TensorBoardLogger, checkpoints: Path) -> tuple[dict, dict]:
        began = time.perf_counter()
        _, metrics = train_no_defense(
            data.poisoned,
            data.test,
            data.backdoor_test,
            target=data.target,
            num_classes=data.num_classes,
            config=config,
            seed=data.seed,
            device=data.device,
            logger=logger,
            checkpointer=Checkpointer(checkpoints),
        )
        return metrics, {"no_defense": time.perf_counter() - began}

    return train


def method_defense(run: Callable[..., Any], config: Any) -> Defense:
    """A method package's ``run`` (the ``unpoison.defenses`` entry-point signature, returning a
    result with ``metrics`` and ``stage_seconds``) with its ``config``, as a column."""

    def train(data: CellData, logger: TensorBoardLogger, checkpoints: Path) -> tuple[dict, dict]:
        result = run(
            data.poisoned,
            num_classes=data.num_classes,
            config=config,
            test=data.test,
            backdoor_test=data.backdoor_test,
            target=data.target,
            seed=data.seed,
            device=data.device,
            logger=logger,
            checkpoint_dir=checkpoints,
        )
        return result.metrics, result.stage_seconds

    return train


def run_defense_cell(
    folder: Path,
    *,
    dataset: ImageDataset,
    attack: Attack,
    rate: float,
    selection: str,
    target: int,
    seed: int,
    device: torch.device,
    defense: str,
    train: Defense,
    record: Mapping[str, Any],
    packages: tuple[str, ...] = (),
) -> None:
    """Poison ``dataset``, train one defense on it and write ``folder/results.json``.

    ``record`` (the preset's settings of this cell) goes into results.json beside the poisoning;
    ``packages`` names the method distributions whose versions are recorded.
    """
    seed_everything(seed)
    poisoned = attacks.poison(
        dataset.train,
        attack,
        rate,
        target,
        seed=seed,
        selection=selection,
        num_classes=dataset.num_classes,
    )
    backdoor_test = attacks.backdoor_test_set(dataset.test, attack, target, dataset.num_classes)
    data = CellData(
        poisoned.to(device),
        dataset.test.to(device),
        backdoor_test.to(device),
        dataset.num_classes,
        target,
        seed,
        device,
    )
    logger = TensorBoardLogger(folder)
    metrics, stage_seconds = train(data, logger, folder / "checkpoints")
    logger.hparams(
        {"attack": attack.name, "defense": defense, "rate": rate},
        {k: v for k, v in metrics.items() if k in ("asr", "ca_all", "ca_nontarget")},
    )
    logger.close()
    config = {
        **record,
        "attack": {"name": attack.name, **attack.params()},
        "rate": rate,
        "selection": selection,
        "target": target,
        "defense": defense,
    }
    write_results(
        folder,
        config=config,
        seed=seed,
        metrics=metrics,
        stage_seconds=stage_seconds,
        extra_packages=packages,
    )


def run_cells(
    cells: Sequence[Cell],
    out: Path,
    run_cell: Callable[[Cell, Path], None],
    fresh: bool = False,
) -> tuple[dict[tuple[str, str], dict[str, Any]], float]:
    """Run (or read back) every cell; returns each cell's results.json and their summed seconds.

    ``run_cell(cell, folder)`` trains the cell and writes ``folder/results.json``. With ``fresh``
    the cells' folders are deleted first. One line per cell reports ASR and both CAs.
    """
    records: dict[tuple[str, str], dict[str, Any]] = {}
    seconds = 0.0
    for number, cell in enumerate(cells, 1):
        folder = out / "cells" / cell.key
        if fresh and folder.exists():
            shutil.rmtree(folder)
        saved = folder / "results.json"
        cached = saved.exists()
        if not cached:
            run_cell(cell, folder)
        record = json.loads(saved.read_text())
        records[(cell.attack, cell.defense)] = record
        seconds += record["wall_seconds"]
        metrics = record["metrics"]
        print(
            f"[{number}/{len(cells)}] {cell.attack} / {cell.defense}: ASR {metrics['asr']:.2f}  "
            f"CA_all {metrics['ca_all']:.2f}  CA_nontarget {metrics['ca_nontarget']:.2f}  "
            f"({record['wall_seconds']:.0f} s{', cached' if cached else ''})",
            flush=True,
        )
    return records, seconds


def qualitative_verdict(
    defense: str, metric: str, ours: float, baseline_ca: float | None, baseline: str = "No defense"
) -> str:
    """The mini presets' verdict: the baseline is backdoored, the defense removes the backdoor
    and keeps clean accuracy within MAX_CA_DROP points of the baseline's (``baseline_ca``)."""
    if metric == "ASR" and defense == baseline:
        ok = ours >= MIN_BACKDOOR_ASR
        return (
            f"reproduced (>= {MIN_BACKDOOR_ASR:g})"
            if ok
            else f"NOT reproduced (< {MIN_BACKDOOR_ASR:g})"
        )
    if metric == "ASR":
        ok = ours <= MAX_DEFENDED_ASR
        return (
            f"reproduced (<= {MAX_DEFENDED_ASR:g})"
            if ok
            else f"NOT reproduced (> {MAX_DEFENDED_ASR:g})"
        )
    if defense == baseline:
        return "reference"
    drop = (baseline_ca or 0.0) - ours
    if drop <= MAX_CA_DROP:
        return f"reproduced (drop {drop:.1f} <= {MAX_CA_DROP:g})"
    return f"NOT reproduced (drop {drop:.1f} > {MAX_CA_DROP:g})"


def numeric_verdict(
    defense: str, metric: str, ours: float, paper: float | None, baseline: str = "No defense"
) -> str:
    """The paper presets' verdict: within TOLERANCE of the paper, better, or different."""
    if paper is None:
        return "no paper value"
    gap = ours - paper
    if abs(gap) <= TOLERANCE[metric]:
        return "reproduced"
    better = (
        (gap < 0) if (metric == "ASR" and defense != baseline) else (gap > 0 and metric == "CA")
    )
    return "better than paper" if better else "differs"


def add_reproduction_arguments(
    parser: argparse.ArgumentParser, presets: Sequence[str], name: str, results_md: Path
) -> None:
    """The options every reproduce script has; ``name`` is e.g. ``"abl"``."""
    parser.add_argument(
        "--preset",
        choices=sorted(presets),
        default="mini",
        help="mini: digits on a CPU in minutes (default); paper: the paper's datasets and "
        "settings (GPU); smoke: a few steps, for tests",
    )
    parser.add_argument("--dataset", help="run the preset's settings on another dataset")
    parser.add_argument("--data-root", type=Path, help="folder holding (or receiving) the dataset")
    parser.add_argument("--download", action="store_true", help="download the dataset if absent")
    parser.add_argument("--attacks", help="comma-separated paper row names to run (default: all)")
    parser.add_argument(
        "--assets", type=Path, help="folder of trigger files (see python -m unpoison.assets)"
    )
    parser.add_argument("--seed", type=int, help="seed of poisoning and training")
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (default: auto)")
    parser.add_argument(
        "--out", type=Path, help=f"output folder (default: runs/reproduce-{name}/<preset>)"
    )
    parser.add_argument("--fresh", action="store_true", help="recompute cells that have results")
    parser.add_argument(
        "--results-md",
        type=Path,
        default=results_md,
        help=f"markdown report to regenerate (default: {results_md.name} beside the script; "
        "never written by the smoke preset)",
    )


def select_rows(rows: Sequence[Any], wanted: str | None) -> tuple[Any, ...]:
    """The rows (with a ``paper_name``) named in the comma-separated ``wanted``, in that order."""
    if not wanted:
        return tuple(rows)
    names = [name.strip() for name in wanted.split(",")]
    known = {row.paper_name: row for row in rows}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown attack rows {unknown}; this preset has {sorted(known)}")
    return tuple(known[name] for name in names)


def write_results_md(
    path: Path, title: str, preset: str, intro: Sequence[str], rows: list[Row], seconds: float
) -> None:
    """Regenerate the ``preset`` section of ``path``, keeping the other presets' sections."""
    begin, end = f"<!-- begin {preset} -->", f"<!-- end {preset} -->"
    section = "\n".join(
        [
            begin,
            f"## Preset `{preset}`",
            "",
            *intro,
            f"Hardware: {hardware_summary()}. Training time of all cells: {seconds / 60:.1f} min "
            "(each cell's results.json has its own).",
            "",
            format_markdown(rows),
            end,
        ]
    )
    text = (
        path.read_text()
        if path.exists()
        else f"# {title}\n\nRegenerated by the reproduce script beside it; do not edit by hand.\n"
    )
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
