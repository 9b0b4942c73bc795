"""The cells of a reproduction: one (attack row, defense) each, trained once and cached.

Each cell is keyed by a hash of
everything that determines its result, runs once into ``<out>/cells/<key>/`` (TensorBoard logs,
checkpoints, ``results.json``), and is read back instead of recomputed on the next run; a cell that
was killed resumes from its checkpoints.
"""

from __future__ import annotations

import hashlib
import inspect
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
from unpoison.attacks.learned import default_network_cache
from unpoison.attacks.paper_presets import PaperPoisoning
from unpoison.data.split import ImageDataset, PoisonedSplit, Split
from unpoison.logging import TensorBoardLogger, write_results
from unpoison.models.precision import compute_precision
from unpoison.train import Checkpointer, NoDefenseConfig, seed_everything, train_no_defense


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
    holdout: Split | None  # the defender's clean holdout, when the paper keeps one
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
    result with ``metrics`` and ``stage_seconds``) with its ``config``, as a column. A method that
    uses the defender's clean holdout takes it as ``holdout=``; it is passed when the paper has one
    and the method takes it (the other columns train without it).
    """
    takes_holdout = "holdout" in inspect.signature(run).parameters

    def train(data: CellData, logger: TensorBoardLogger, checkpoints: Path) -> tuple[dict, dict]:
        holdout = {"holdout": data.holdout} if takes_holdout and data.holdout is not None else {}
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
            **holdout,
        )
        return result.metrics, result.stage_seconds

    return train


def run_defense_cell(
    folder: Path,
    *,
    dataset: ImageDataset,
    attack: Attack,
    rate: float,
    poisoning: PaperPoisoning,
    target: int,
    seed: int,
    device: torch.device,
    defense: str,
    train: Defense,
    record: Mapping[str, Any],
    packages: tuple[str, ...] = (),
    precision: str = "fp32",
) -> None:
    """Poison ``dataset``, train one defense on it and write ``folder/results.json``.

    ``record`` (the preset's settings of this cell) goes into results.json beside the poisoning;
    ``packages`` names the method distributions whose versions are recorded. The defense trains
    with its backbones in ``precision`` (``unpoison.models.precision``); poisoning, including any
    network an attack trains, stays in fp32.
    """
    seed_everything(seed)
    attack.prepare(
        dataset.train,
        target=target,
        num_classes=dataset.num_classes,
        seed=seed,
        device=device,
        cache_dir=default_network_cache(),
    )
    poisoned = poisoning.poison(
        dataset.train, attack, dataset.num_classes, seed=seed, rate=rate, target=target
    )
    _, holdout = poisoning.split_holdout(dataset.train)
    backdoor_test = attacks.backdoor_test_set(dataset.test, attack, target, dataset.num_classes)
    data = CellData(
        poisoned.to(device),
        None if holdout is None else holdout.to(device),
        dataset.test.to(device),
        backdoor_test.to(device),
        dataset.num_classes,
        target,
        seed,
        device,
    )
    logger = TensorBoardLogger(folder)
    with compute_precision(precision):
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
        "selection": poisoning.selection(attack),
        "holdout": poisoning.holdout,
        "target": target,
        "defense": defense,
        "precision": precision,
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


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
