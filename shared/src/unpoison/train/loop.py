"""The epoch loop every stage of every method runs: one optimizer, one loss, a loader.

Per step there is no host synchronisation: the loss is summed on the device and a non-finite loss
is remembered as the first step where it happened, both read once at the end of the epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

import torch
from torch import nn
from tqdm.auto import tqdm

from unpoison.data.loader import Batch
from unpoison.logging import NullLogger
from unpoison.train.optim import LRSchedule, set_lr

# A loss sees the logits, the labels and the batch's positions in the training split.
LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


class BatchSource(Protocol):
    """What the loop trains on: a ``DeviceLoader`` or anything with its ``epoch`` and ``device``."""

    device: torch.device

    def epoch(self, e: int) -> Iterator[Batch]: ...


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss."""


class LossMeter:
    """A loss summed over an epoch's steps on the device, with the first non-finite step.

    ``add`` never synchronises with the host; ``mean`` reads the device once, at the epoch's end.
    """

    def __init__(self, device: torch.device) -> None:
        self.total = torch.zeros((), device=device)
        self.first_bad_step = torch.full((), -1, device=device)
        self.steps = 0

    def add(self, loss: torch.Tensor) -> None:
        """Count one step's loss."""
        loss = loss.detach()
        self.total += loss
        bad = (self.first_bad_step < 0) & ~torch.isfinite(loss)
        self.first_bad_step = torch.where(
            bad, torch.full_like(self.first_bad_step, self.steps), self.first_bad_step
        )
        self.steps += 1

    def mean(self, stage: str, epoch: int) -> float:
        """The mean loss; raises NonFiniteLossError naming the first non-finite step."""
        if (step := self.first_bad_step.item()) >= 0:
            raise NonFiniteLossError(
                f"non-finite loss in stage {stage!r}, epoch {epoch}, step {step}"
            )
        return self.total.item() / max(self.steps, 1)


def cross_entropy(
    logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean cross-entropy over the batch (``index`` is not used)."""
    return nn.functional.cross_entropy(logits, y)


def train_epoch(
    model: nn.Module,
    loader: BatchSource,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    loss_fn: LossFn = cross_entropy,
    stage: str = "train",
) -> float:
    """One pass over ``loader.epoch(epoch)``; returns the mean batch loss."""
    model.train()
    meter = LossMeter(loader.device)
    for x, y, index in loader.epoch(epoch):
        loss = loss_fn(model(x), y, index)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        meter.add(loss)
    return meter.mean(stage, epoch)


def run_epochs(
    *,
    stage: str,
    train_one_epoch: Callable[[int], dict[str, float]],
    epochs: int,
    start_epoch: int = 0,
    evaluate: Callable[[], dict[str, float]] | None = None,
    on_epoch_end: Callable[[int], None] | None = None,
    logger: NullLogger | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Run ``train_one_epoch(epoch)`` for epochs ``start_epoch..epochs-1`` with a progress bar.

    After each epoch its values (loss, lr, ...) and ``evaluate()`` are logged under ``stage``, then
    ``on_epoch_end(epochs_done)`` runs (checkpointing). Returns the last epoch's values (empty when
    nothing was left to run). A method whose epoch is more than one loss on one model (several
    models, passes or terms) writes its own ``train_one_epoch`` and keeps this loop.
    """
    logger = logger or NullLogger()
    metrics: dict[str, float] = {}
    bar = tqdm(
        range(start_epoch, epochs), desc=stage, unit="epoch", leave=False, disable=not progress
    )
    for epoch in bar:
        metrics = train_one_epoch(epoch)
        if evaluate is not None:
            metrics.update(evaluate())
        logger.scalars(metrics, epoch + 1, prefix=stage)
        bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()})
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
    return metrics


def run_stage(
    *,
    stage: str,
    model: nn.Module,
    loader: BatchSource,
    optimizer: torch.optim.Optimizer,
    lr_at: LRSchedule,
    epochs: int,
    loss_fn: LossFn = cross_entropy,
    start_epoch: int = 0,
    evaluate: Callable[[], dict[str, float]] | None = None,
    on_epoch_end: Callable[[int], None] | None = None,
    logger: NullLogger | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Train ``model`` on ``loss_fn`` for epochs ``start_epoch..epochs-1`` (see ``run_epochs``),
    setting the learning rate ``lr_at(epoch)`` before each; logs its loss and lr."""

    def one_epoch(epoch: int) -> dict[str, float]:
        lr = lr_at(epoch)
        set_lr(optimizer, lr)
        return {"loss": train_epoch(model, loader, optimizer, epoch, loss_fn, stage), "lr": lr}

    return run_epochs(
        stage=stage,
        train_one_epoch=one_epoch,
        epochs=epochs,
        start_epoch=start_epoch,
        evaluate=evaluate,
        on_epoch_end=on_epoch_end,
        logger=logger,
        progress=progress,
    )
