"""ABL's losses on tiny tensors, against hand-computed values."""

import math

import pytest
import torch
import torch.nn.functional as F
from abl.method import global_gradient_ascent, isolate, isolation_loss, negative_cross_entropy

LOGITS = torch.tensor([[2.0, 0.0], [0.0, 0.0], [0.0, 3.0]])
LABELS = torch.tensor([0, 0, 1])
INDEX = torch.tensor([0, 1, 2])
# Per-sample CE: log(1 + e^-2), log 2, log(1 + e^-3).
CE = [math.log(1 + math.exp(-2)), math.log(2), math.log(1 + math.exp(-3))]


def grad_of(loss_fn, logits: torch.Tensor) -> torch.Tensor:
    logits = logits.clone().requires_grad_(True)
    loss_fn(logits, LABELS, INDEX).backward()
    return logits.grad


def test_flooding_and_lga_values_by_hand() -> None:
    mean = sum(CE) / 3  # 0.3002 < gamma = 0.5
    assert isolation_loss("flooding", 0.5)(LOGITS, LABELS, INDEX).item() == pytest.approx(
        abs(mean - 0.5) + 0.5
    )
    assert isolation_loss("lga", 0.5)(LOGITS, LABELS, INDEX).item() == pytest.approx(-mean)


@pytest.mark.parametrize("gamma", [0.1, 0.5, 1.0])
def test_lga_and_flooding_have_the_same_gradient(gamma: float) -> None:
    flooding = grad_of(isolation_loss("flooding", gamma), LOGITS)
    lga = grad_of(isolation_loss("lga", gamma), LOGITS)
    torch.testing.assert_close(flooding, lga)
    # Below gamma the step is gradient ascent: the opposite of plain cross-entropy's gradient.
    ce_grad = grad_of(lambda z, y, i: F.cross_entropy(z, y), LOGITS)
    sign = 1.0 if sum(CE) / 3 > gamma else -1.0
    torch.testing.assert_close(lga, sign * ce_grad)


def test_per_sample_lga_applies_the_sign_to_each_example() -> None:
    # gamma 0.5: CE_0 = 0.127 (< 0.5, negated), CE_1 = 0.693 (kept), CE_2 = 0.049 (negated).
    expected = (-CE[0] + CE[1] - CE[2]) / 3
    assert isolation_loss("lga-per-sample", 0.5)(LOGITS, LABELS, INDEX).item() == pytest.approx(
        expected
    )


def test_negative_cross_entropy() -> None:
    assert negative_cross_entropy(LOGITS, LABELS, INDEX).item() == pytest.approx(-sum(CE) / 3)


def test_global_gradient_ascent_descends_on_the_rest_and_ascends_on_the_isolated() -> None:
    is_isolated = torch.tensor([False, True, False])
    loss = global_gradient_ascent(is_isolated)(LOGITS, LABELS, INDEX)
    assert loss.item() == pytest.approx((CE[0] + CE[2]) / 2 - CE[1])


def test_isolate_takes_the_lowest_losses_first() -> None:
    losses = torch.tensor([0.9, 0.1, 0.5, 0.05, 2.0, 0.3, 0.7, 0.2, 1.1, 0.4])
    assert isolate(losses, 0.3).tolist() == [3, 1, 7]
    assert isolate(losses, 0.01).tolist() == [3]  # at least one example
