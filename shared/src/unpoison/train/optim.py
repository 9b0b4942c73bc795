"""Optimizers and learning-rate schedules by name.

Schedules are pure functions of the epoch (``lr_at(epoch) -> lr``), so a resumed run sets exactly
the learning rate an uninterrupted one would have.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch

LRSchedule = Callable[[int], float]


@dataclass(frozen=True)
class SGDConfig:
    """SGD hyperparameters; the defaults are ABL's for every stage (docs/methods/abl.md §4)."""

    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    nesterov: bool = True


def make_sgd(params: Iterable[torch.nn.Parameter], config: SGDConfig) -> torch.optim.SGD:
    """An SGD optimizer from a config."""
    return torch.optim.SGD(
        params,
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=config.nesterov,
    )


@dataclass(frozen=True)
class AdamConfig:
    """Adam hyperparameters; the defaults are T&R's stage 1 (docs/methods/trap-replace.md §3.3).
    The weight decay is the L2 term Adam adds to the gradient (``torch.optim.Adam``), not
    AdamW's."""

    lr: float = 1e-3
    weight_decay: float = 5e-4


def make_adam(params: Iterable[torch.nn.Parameter], config: AdamConfig) -> torch.optim.Adam:
    """An Adam optimizer from a config."""
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def constant_lr(lr: float) -> LRSchedule:
    """The same learning rate every epoch."""
    return lambda epoch: lr


def check_milestones(name: str, milestones: Sequence[int]) -> None:
    """Raise if ``milestones`` (the setting called ``name``) are not increasing positive epochs."""
    if any(m < 1 for m in milestones) or list(milestones) != sorted(milestones):
        raise ValueError(f"{name} must be increasing positive epochs, got {tuple(milestones)}")


def step_lr(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> LRSchedule:
    """``lr`` multiplied by ``gamma`` once for every milestone epoch reached."""
    return lambda epoch: lr * gamma ** sum(epoch >= m for m in milestones)


def cosine_lr(lr: float, epochs: int, warmup_epochs: int = 0) -> LRSchedule:
    """Linear warm-up then cosine decay to zero over ``epochs``."""

    def schedule(epoch: int) -> float:
        if epoch < warmup_epochs:
            return lr * (epoch + 1) / warmup_epochs
        progress = (epoch - warmup_epochs) / max(epochs - warmup_epochs, 1)
        return 0.5 * lr * (1 + math.cos(math.pi * progress))

    return schedule


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr
