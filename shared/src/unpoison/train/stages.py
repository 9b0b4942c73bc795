"""The named stages of a defense run: which still have work, where each resumes, its checkpoints
and its time.

A method declares its stages once (ABL: isolation, scoring, finetune, unlearning), hands the
modules and optimizers a checkpoint holds to ``track`` (which restores them when resuming), and
writes each stage as::

    if stage := stages.start("isolation", config.isolation_epochs):
        stage.train(model=model, loader=loader, optimizer=optimizer, lr_at=lr_at)

``start`` returns None for a stage that is finished, has no epochs, or comes after ``stop_after``;
otherwise the stage resumes at its next epoch, saves a checkpoint after every epoch and adds its
wall-clock time to ``seconds``. A stage without epochs (scoring, a split) counts as one epoch and
calls ``stage.done()`` when its work is saved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from unpoison.logging import NullLogger
from unpoison.train.checkpoint import Checkpoint, Checkpointer
from unpoison.train.loop import BatchSource, LossFn, cross_entropy, run_epochs, run_stage
from unpoison.train.optim import LRSchedule

Evaluate = Callable[[], dict[str, float]]


class Stages:
    """The stages of one run, its checkpoints (with a ``checkpoint_dir``) and their timings."""

    def __init__(
        self,
        names: tuple[str, ...],
        *,
        prefix: str,
        checkpoint_dir: str | Path | None = None,
        stop_after: str | None = None,
        logger: NullLogger | None = None,
        progress: bool = True,
    ) -> None:
        if stop_after is not None and stop_after not in names:
            raise ValueError(f"stop_after must be one of {names}, got {stop_after!r}")
        self.names, self.prefix, self.stop_after = names, prefix, stop_after
        self.logger = logger or NullLogger()
        self.progress = progress
        self.checkpointer = Checkpointer(checkpoint_dir) if checkpoint_dir is not None else None
        self.seconds: dict[str, float] = {}
        self._done_stage, self._done_epoch = -1, 0  # the latest checkpoint's stage and epochs
        self._modules: dict[str, nn.Module] = {}
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        self._tensors: Callable[[], dict[str, torch.Tensor]] = dict

    def track(
        self,
        modules: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
        tensors: Callable[[], dict[str, torch.Tensor]] = dict,
        device: torch.device | str = "cpu",
    ) -> Checkpoint | None:
        """Save ``modules``, ``optimizers`` and the extra ``tensors()`` after every epoch. When
        the run has a checkpoint, restore them from it and return it (for its extra tensors)."""
        self._modules, self._optimizers, self._tensors = modules, optimizers, tensors
        if self.checkpointer is None or (saved := self.checkpointer.load(device)) is None:
            return None
        saved.restore(modules, optimizers)
        self.resume_from(saved)
        return saved

    def resume_from(self, saved: Checkpoint) -> None:
        """Continue after the checkpoint ``saved`` (its state holds ``stage_seconds``)."""
        self._done_stage, self._done_epoch = self.names.index(saved.stage), saved.epoch
        self.seconds = dict(saved.state["stage_seconds"])

    def reached(self, name: str) -> bool:
        """Whether the checkpoint resumed from was saved in stage ``name`` or a later one."""
        return self._done_stage >= self.names.index(name)

    def start(self, name: str, epochs: int = 1) -> Stage | None:
        """Stage ``name`` of ``epochs`` epochs, resumed where it stopped; None when it has
        nothing left to run (finished before, no epochs, or after ``stop_after``)."""
        index = self.names.index(name)
        stopped = self.stop_after is not None and index > self.names.index(self.stop_after)
        first = self._done_epoch if index == self._done_stage else 0
        if stopped or index < self._done_stage or epochs <= 0 or first >= epochs:
            return None
        return Stage(self, name, epochs, first)

    def save(self, name: str, epochs_done: int) -> None:
        """Checkpoint the tracked state as ``epochs_done`` epochs into stage ``name``."""
        if self.checkpointer is not None:
            self.checkpointer.save(
                stage=name,
                epoch=epochs_done,
                modules=self._modules,
                optimizers=self._optimizers,
                tensors=self._tensors(),
                state={"stage_seconds": self.seconds},
            )


class Stage:
    """One stage with work left: its epochs from ``start_epoch``, saved and timed as they end."""

    def __init__(self, stages: Stages, name: str, epochs: int, start_epoch: int) -> None:
        self.stages, self.name, self.epochs, self.start_epoch = stages, name, epochs, start_epoch
        # the log tag, e.g. "dst_dbr/sd/train" for stage "sd-train" with prefix "dst_dbr"
        self.tag = "/".join(filter(None, (stages.prefix, name.replace("-", "/"))))
        self._before = stages.seconds.get(name, 0.0)
        self._began = time.perf_counter()

    def save(self, epochs_done: int) -> None:
        """Record the stage's time and checkpoint after ``epochs_done`` epochs."""
        self.stages.seconds[self.name] = self._before + time.perf_counter() - self._began
        self.stages.save(self.name, epochs_done)

    def done(self) -> None:
        """End a stage without epochs (its one step is saved)."""
        self.save(1)

    def loop(
        self, train_one_epoch: Callable[[int], dict[str, float]], evaluate: Evaluate | None = None
    ) -> dict[str, float]:
        """``train_one_epoch(epoch)`` over the remaining epochs (``unpoison.train.run_epochs``)."""
        return run_epochs(
            stage=self.tag,
            train_one_epoch=train_one_epoch,
            epochs=self.epochs,
            start_epoch=self.start_epoch,
            evaluate=evaluate,
            on_epoch_end=self.save,
            logger=self.stages.logger,
            progress=self.stages.progress,
        )

    def train(
        self,
        *,
        model: nn.Module,
        loader: BatchSource,
        optimizer: torch.optim.Optimizer,
        lr_at: LRSchedule,
        loss_fn: LossFn = cross_entropy,
        evaluate: Evaluate | None = None,
    ) -> dict[str, float]:
        """Train ``model`` on ``loss_fn`` over the remaining epochs (``train.run_stage``)."""
        return run_stage(
            stage=self.tag,
            model=model,
            loader=loader,
            optimizer=optimizer,
            lr_at=lr_at,
            epochs=self.epochs,
            loss_fn=loss_fn,
            start_epoch=self.start_epoch,
            evaluate=evaluate,
            on_epoch_end=self.save,
            logger=self.stages.logger,
            progress=self.stages.progress,
        )
