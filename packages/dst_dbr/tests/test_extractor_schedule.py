"""The SS-CTL extractor's learning rate: the code's per-step warm-up, then its per-epoch cosine."""

import math

import pytest
from dst_dbr import STConfig, extractor_lr

CODE = STConfig()  # lr 0.5, 200 epochs, floor 0.5e-3, warm-up 10 epochs from 0.01


def cosine(code_epoch: int) -> float:
    floor = 0.5 * 0.1**3
    return floor + (0.5 - floor) * (1 + math.cos(math.pi * code_epoch / 200)) / 2


def test_warm_up_starts_at_warmup_from() -> None:
    assert extractor_lr(CODE, 0, 0, 98) == pytest.approx(0.01)


def test_warm_up_rises_linearly_per_step_to_the_cosine_at_epoch_ten() -> None:
    target = cosine(10)
    assert target == pytest.approx(0.4969, abs=1e-4)  # docs/methods/dst-dbr.md §3.3: about 0.4969
    halfway = extractor_lr(CODE, 5, 0, 98)  # 490 of 980 warm-up steps done
    assert halfway == pytest.approx(0.01 + 0.5 * (target - 0.01))
    last = extractor_lr(CODE, 9, 97, 98)
    assert last == pytest.approx(0.01 + (979 / 980) * (target - 0.01))


def test_after_warm_up_the_cosine_counts_epochs_from_one() -> None:
    assert extractor_lr(CODE, 10, 0, 98) == pytest.approx(cosine(11))
    assert extractor_lr(CODE, 10, 50, 98) == pytest.approx(cosine(11))  # constant in an epoch
    assert extractor_lr(CODE, 199, 0, 98) == pytest.approx(0.5e-3)  # the floor at epoch 200


def test_without_warm_up_epoch_zero_is_already_the_cosine_of_epoch_one() -> None:
    config = STConfig(warmup_epochs=0)
    assert extractor_lr(config, 0, 0, 98) == pytest.approx(cosine(1))
