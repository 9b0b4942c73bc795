"""Where a multi-stage defense run stands: which stages are done, how far, and how long each took.

A method runs named stages in order (ABL: isolation, scoring, finetune, unlearning). After every
epoch it saves a checkpoint tagged with the stage and the epochs done; a resumed run skips the
finished stages, starts the interrupted one at its next epoch, and keeps the stage timings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from unpoison.train.checkpoint import Checkpoint, Checkpointer


class StageProgress:
    """The resume point and the wall-clock seconds of the stages of one run, and (with a
    ``checkpoint_dir``) its checkpoints: ``resume`` loads the latest, ``saver`` saves per epoch."""

    def __init__(
        self,
        stages: tuple[str, ...],
        stop_after: str | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> None:
        if stop_after is not None and stop_after not in stages:
            raise ValueError(f"stop_after must be one of {stages}, got {stop_after!r}")
        self.stages = stages
        self.stop_after = stop_after
        self.seconds: dict[str, float] = {}
        self._done_stage, self._done_epoch = -1, 0  # last checkpoint's stage index and epochs
        self._current, self._began, self._before = "", 0.0, 0.0
        self.checkpointer = Checkpointer(checkpoint_dir) if checkpoint_dir is not None else None

    def resume(self, device: torch.device | str) -> Checkpoint | None:
        """Continue after the run's latest checkpoint and return it (the caller restores its
        modules from it); None without a checkpoint folder or a checkpoint."""
        if self.checkpointer is None or (saved := self.checkpointer.load(device)) is None:
            return None
        self.resume_from(saved)
        return saved

    def saver(
        self,
        stage: str,
        modules: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
        tensors: Callable[[], dict[str, torch.Tensor]] | None = None,
    ) -> Callable[[int], None]:
        """The ``on_epoch_end`` of ``stage``: record its time and, with a checkpoint folder, save
        ``modules``, ``optimizers``, the extra ``tensors()`` and the stage timings."""

        def save(epochs_done: int) -> None:
            self.tick()
            if self.checkpointer is not None:
                self.checkpointer.save(
                    stage=stage,
                    epoch=epochs_done,
                    modules=modules,
                    optimizers=optimizers,
                    tensors=tensors() if tensors is not None else {},
                    state={"stage_seconds": self.seconds},
                )

        return save

    def resume_from(self, saved: Checkpoint) -> None:
        """Continue after the checkpoint ``saved`` (its state must hold ``stage_seconds``)."""
        self._done_stage, self._done_epoch = self.stages.index(saved.stage), saved.epoch
        self.seconds = dict(saved.state["stage_seconds"])

    def reached(self, stage: str) -> bool:
        """Whether the checkpoint resumed from was saved in ``stage`` or a later one."""
        return self._done_stage >= self.stages.index(stage)

    def pending(self, stage: str) -> bool:
        """Whether ``stage`` still has work: not finished before, and not after ``stop_after``."""
        index = self.stages.index(stage)
        stopped = self.stop_after is not None and index > self.stages.index(self.stop_after)
        return index >= self._done_stage and not stopped

    def start_epoch(self, stage: str) -> int:
        """The first epoch of ``stage`` still to run."""
        return self._done_epoch if self.stages.index(stage) == self._done_stage else 0

    def start(self, stage: str) -> None:
        """Start timing ``stage`` (continuing its time from before a resume)."""
        self._current, self._began = stage, time.perf_counter()
        self._before = self.seconds.get(stage, 0.0)

    def tick(self) -> None:
        """Record the time spent in the current stage so far."""
        self.seconds[self._current] = self._before + time.perf_counter() - self._began
