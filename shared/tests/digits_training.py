"""A defense trained on a poisoned digits split, the way the package tests train one."""

from __future__ import annotations

from typing import Any

import torch
from unpoison.data.split import PoisonedSplit, Split
from unpoison.defenses import Defense, DefenseResult


def train_on_digits(
    defense: Defense,
    poisoned: PoisonedSplit,
    config: Any,
    test: Split | None = None,
    backdoor_test: Split | None = None,
    **options: Any,
) -> DefenseResult:
    """``defense.train`` with digits' 10 classes and target 0, every epoch evaluated on ``test``
    and ``backdoor_test`` when given, without progress bars; ``options`` are the other keywords
    of ``Defense.train`` (holdout, checkpoint_dir, stop_after, ...)."""
    evaluation = {} if test is None else {"test": test, "backdoor_test": backdoor_test}
    return defense.train(
        poisoned, num_classes=10, config=config, target=0, progress=False, **evaluation, **options
    )


def assert_same_result(resumed: DefenseResult, uninterrupted: DefenseResult) -> None:
    """The same metrics and, bit for bit, the same weights and buffers of every model."""
    assert resumed.metrics == uninterrupted.metrics
    for role in ("model", *uninterrupted.models):
        expected = uninterrupted.model if role == "model" else uninterrupted.models[role]
        actual = resumed.model if role == "model" else resumed.models[role]
        for name, tensor in expected.state_dict().items():
            assert torch.equal(actual.state_dict()[name], tensor), f"{role}.{name}"
