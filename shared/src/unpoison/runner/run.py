"""One defense run into one folder: the command lines and the reproductions' cells both go
through ``DefenseRun``.

A run folder holds TensorBoard logs, ``checkpoints/`` (with the run's fingerprint) and, once the
run finished, ``results.json`` (``unpoison.runner.results``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from unpoison.attacks import Attack
from unpoison.data.split import ImageDataset
from unpoison.defenses import registry
from unpoison.defenses.contract import (
    Defense,
    DefenseResult,
    Evaluation,
    RunOptions,
    TrainingData,
)
from unpoison.logging import TensorBoardLogger
from unpoison.models.precision import compute_precision
from unpoison.runner import fingerprint as fingerprints
from unpoison.runner.poisoning import Poisoning, poison_dataset
from unpoison.runner.results import write_results


@dataclass(frozen=True)
class DefenseRun:
    """A defense with its config, the poisoning it trains on, and the settings of the run."""

    defense: Defense
    config: Any
    poisoning: Poisoning
    attack: Attack  # the poisoning's attack, created (and so validated)
    seed: int
    precision: str  # "fp32" or "bf16", resolved
    device: torch.device

    @property
    def variant(self) -> str | None:
        """The name of the defense's variant whose config this is (None: a changed one)."""
        return next((n for n, c in self.defense.variants.items() if c == self.config), None)

    @cached_property
    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines the run's result (``unpoison.runner.fingerprint``)."""
        return fingerprints.normalized(
            {
                "poisoning": self.poisoning.record(self.attack),
                "defense": {"name": self.defense.name, "config": asdict(self.config)},
                "seed": self.seed,
                "precision": self.precision,
            }
        )

    def check(self, folder: Path, resume: bool) -> None:
        """Before any work: refuse ``folder`` if it holds another run, or any run without
        ``resume``."""
        fingerprints.check_resumable(folder / "checkpoints", self.fingerprint, resume)

    def execute(
        self,
        folder: Path,
        dataset: ImageDataset,
        *,
        progress: bool = True,
        reproduction: Mapping[str, Any] | None = None,
    ) -> tuple[DefenseResult, Path]:
        """Poison ``dataset``, run the defense into ``folder`` (resuming its checkpoints) and
        write ``results.json``; returns the result and that file's path. Call ``check`` first."""
        data = poison_dataset(self.poisoning, dataset, self.attack, self.seed, self.device)
        checkpoints = folder / "checkpoints"
        fingerprints.record(checkpoints, self.fingerprint)
        logger = TensorBoardLogger(folder)
        options = RunOptions(
            seed=self.seed,
            device=self.device,
            logger=logger,
            checkpoint_dir=checkpoints,
            progress=progress,
        )
        with compute_precision(self.precision):
            result = self.defense.run(
                TrainingData(data.poisoned, data.num_classes, data.holdout),
                self.config,
                Evaluation(data.test, data.backdoor_test, self.poisoning.target),
                options,
            )
        final = result.metrics.get("model", {})
        logger.hparams(
            {"attack": self.attack.name, "defense": self.defense.name, "rate": self.poisoning.rate},
            {k: v for k, v in final.items() if k in ("asr", "ca_all", "ca_nontarget")},
        )
        logger.close()
        path = write_results(
            folder,
            fingerprint=self.fingerprint,
            variant=self.variant,
            device=self.device,
            metrics=result.metrics,
            stage_seconds=result.stage_seconds,
            packages=(registry.distribution(self.defense.name),),
            reproduction=reproduction,
        )
        return result, path
