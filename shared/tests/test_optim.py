"""optim: SGD construction and the learning-rate schedules (pure functions of the epoch)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn
from unpoison.train.optim import (
    SGDConfig,
    check_milestones,
    constant_lr,
    cosine_lr,
    make_sgd,
    set_lr,
    step_lr,
)


def test_sgd_config_defaults_are_abl_settings() -> None:
    config = SGDConfig()
    assert (config.lr, config.momentum, config.weight_decay, config.nesterov) == (
        0.1,
        0.9,
        1e-4,
        True,
    )


def test_make_sgd_applies_every_setting() -> None:
    model = nn.Linear(3, 2)
    optimizer = make_sgd(
        model.parameters(), SGDConfig(lr=0.05, momentum=0.8, weight_decay=5e-4, nesterov=False)
    )
    assert isinstance(optimizer, torch.optim.SGD)
    (group,) = optimizer.param_groups
    assert group["lr"] == 0.05
    assert group["momentum"] == 0.8
    assert group["weight_decay"] == 5e-4
    assert group["nesterov"] is False
    assert [p.shape for p in group["params"]] == [(2, 3), (2,)]


def test_make_sgd_one_step_matches_the_nesterov_formula() -> None:
    weight = nn.Parameter(torch.tensor([1.0, -2.0]))
    optimizer = make_sgd([weight], SGDConfig(lr=0.1, momentum=0.9, weight_decay=0.01))
    weight.grad = torch.tensor([0.5, 0.25])
    optimizer.step()
    # first step: d = g + wd * w; buffer = d; nesterov update d + momentum * buffer = 1.9 d
    d = torch.tensor([0.5 + 0.01 * 1.0, 0.25 + 0.01 * -2.0])
    assert torch.allclose(weight.detach(), torch.tensor([1.0, -2.0]) - 0.1 * 1.9 * d)


def test_constant_lr() -> None:
    schedule = constant_lr(0.03)
    assert [schedule(e) for e in (0, 1, 50, 999)] == [0.03] * 4


def test_step_lr_around_milestones() -> None:
    schedule = step_lr(0.1, milestones=(50, 75))
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(49) == pytest.approx(0.1)
    assert schedule(50) == pytest.approx(0.01)
    assert schedule(74) == pytest.approx(0.01)
    assert schedule(75) == pytest.approx(0.001)
    assert schedule(99) == pytest.approx(0.001)


def test_step_lr_gamma_and_unsorted_milestones() -> None:
    schedule = step_lr(1.0, milestones=(4, 2), gamma=0.5)
    assert [schedule(e) for e in range(6)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_step_lr_without_milestones_is_constant() -> None:
    schedule = step_lr(0.2, milestones=())
    assert [schedule(e) for e in (0, 10, 100)] == [0.2, 0.2, 0.2]


def test_cosine_lr_with_warmup_hand_computed() -> None:
    schedule = cosine_lr(0.1, epochs=10, warmup_epochs=2)
    # warm-up: lr * (epoch + 1) / warmup
    assert schedule(0) == pytest.approx(0.05)
    assert schedule(1) == pytest.approx(0.1)
    # then 0.5 lr (1 + cos(pi (epoch - 2) / 8))
    assert schedule(2) == pytest.approx(0.1)
    assert schedule(4) == pytest.approx(0.05 * (1 + math.cos(math.pi / 4)))
    assert schedule(4) == pytest.approx(0.0853553390593)
    assert schedule(6) == pytest.approx(0.05)
    assert schedule(9) == pytest.approx(0.05 * (1 + math.cos(7 * math.pi / 8)))
    assert schedule(10) == pytest.approx(0.0, abs=1e-12)


def test_cosine_lr_without_warmup() -> None:
    schedule = cosine_lr(0.2, epochs=4)
    expected = [0.2, 0.1 * (1 + math.cos(math.pi / 4)), 0.1, 0.1 * (1 + math.cos(3 * math.pi / 4))]
    assert [schedule(e) for e in range(4)] == pytest.approx(expected)


def test_cosine_lr_is_non_increasing_after_warmup() -> None:
    schedule = cosine_lr(0.1, epochs=20, warmup_epochs=3)
    values = [schedule(e) for e in range(2, 21)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_set_lr_sets_every_group() -> None:
    first, second = nn.Linear(2, 2), nn.Linear(2, 1)
    optimizer = torch.optim.SGD(
        [{"params": first.parameters(), "lr": 0.1}, {"params": second.parameters(), "lr": 0.5}],
        lr=0.3,
    )
    set_lr(optimizer, 0.007)
    assert [group["lr"] for group in optimizer.param_groups] == [0.007, 0.007]


@pytest.mark.parametrize("milestones", [(), (1,), (20, 70), (5, 5)])
def test_increasing_positive_milestones_pass(milestones) -> None:
    check_milestones("milestones", milestones)


@pytest.mark.parametrize("milestones", [(0,), (70, 20), (-1, 3)])
def test_bad_milestones_are_named_in_the_error(milestones) -> None:
    with pytest.raises(ValueError, match=r"finetune_milestones must be increasing positive epochs"):
        check_milestones("finetune_milestones", milestones)
