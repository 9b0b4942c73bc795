"""Stage 2 trains the new head only: the stem gets no gradient and keeps its BN statistics."""

from dataclasses import replace

import pytest
import torch
import trap_replace

SHORT = replace(trap_replace.MINI_VARIANT, trap_epochs=1, replace_epochs=2)


def test_the_stem_is_frozen_and_the_head_is_new(trap_digits) -> None:
    poisoned, holdout, _ = trap_digits
    result = trap_replace.DEFENSE.train(
        poisoned.subset(torch.arange(256)),
        holdout=holdout,
        num_classes=10,
        config=SHORT,
        progress=False,
    )
    defended, trapped = result.model, result.models["trapped"]
    for mine, theirs in zip(defended.stem, trapped.stem, strict=True):
        for key, value in theirs.state_dict().items():  # weights and BN running statistics
            assert torch.equal(mine.state_dict()[key], value), key
        assert all(p.grad is None and not p.requires_grad for p in mine.parameters())
    moved = [
        not torch.equal(a, b)
        for a, b in zip(defended.head_parameters(), trapped.head_parameters(), strict=True)
    ]
    assert all(moved)
    assert all(p.requires_grad for p in defended.head_parameters())
    assert defended.blocks[-1].dropout == 0.5 and trapped.blocks[-1].dropout == 0.0


def test_the_holdout_is_required_when_the_head_is_replaced(trap_digits) -> None:
    poisoned, _, _ = trap_digits
    with pytest.raises(ValueError, match="clean holdout"):
        trap_replace.DEFENSE.train(poisoned, num_classes=10, config=SHORT, progress=False)
    kept = trap_replace.DEFENSE.train(
        poisoned.subset(torch.arange(128)),
        num_classes=10,
        config=replace(SHORT, replace_head=False),
        progress=False,
    )
    assert kept.model is kept.models["trapped"]
