"""CBD's sample weights and weighted cross-entropy on tiny tensors, against hand-computed values."""

import math

import pytest
import torch
import torch.nn.functional as F
from cbd import sample_weights, weighted_cross_entropy


def test_weights_by_hand_rescaled_to_mean_one() -> None:
    loss_backdoored = torch.tensor([1.0, 3.0, 0.5, 0.0])
    loss_clean = torch.tensor([1.0, 1.0, 1.5, 2.0])
    # l_B / (l_B + l_C) = 0.5, 0.75, 0.25, 0 (sum 1.5), then times 4 / 1.5.
    weights = sample_weights(loss_backdoored, loss_clean)
    torch.testing.assert_close(weights, torch.tensor([4 / 3, 2.0, 2 / 3, 0.0]))
    assert weights.mean().item() == pytest.approx(1.0)


def test_the_epsilon_sits_in_the_denominator() -> None:
    # l_B = 1e-8, l_C = 0: 1e-8 / (1e-8 + 0 + 1e-8) = 0.5, the same as the second example's.
    weights = sample_weights(torch.tensor([1e-8, 1.0]), torch.tensor([0.0, 1.0]), eps=1e-8)
    torch.testing.assert_close(weights, torch.tensor([1.0, 1.0]))
    unguarded = sample_weights(torch.tensor([1e-8, 1.0]), torch.tensor([0.0, 1.0]), eps=1e-30)
    torch.testing.assert_close(unguarded, torch.tensor([4 / 3, 2 / 3]))


def test_no_gradient_flows_through_the_weights() -> None:
    loss_clean = torch.tensor([1.0, 2.0], requires_grad=True)
    weights = sample_weights(torch.tensor([1.0, 1.0]), loss_clean)
    assert not weights.requires_grad


def test_weighted_cross_entropy_by_hand() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 0.0], [0.0, 3.0]], requires_grad=True)
    labels = torch.tensor([0, 0, 1])
    ce = [math.log(1 + math.exp(-2)), math.log(2), math.log(1 + math.exp(-3))]
    loss_backdoored = torch.tensor([0.2, 1.0, 0.01])
    raw = [b / (b + c + 1e-8) for b, c in zip(loss_backdoored.tolist(), ce, strict=True)]
    expected_weights = [3 * r / sum(raw) for r in raw]
    loss, weights = weighted_cross_entropy(logits, labels, loss_backdoored)
    torch.testing.assert_close(weights, torch.tensor(expected_weights))
    expected = sum(w * c for w, c in zip(expected_weights, ce, strict=True)) / 3
    assert loss.item() == pytest.approx(expected)
    # The gradient is that of the weighted mean with the weights held constant.
    loss.backward()
    reference = logits.detach().clone().requires_grad_(True)
    per_sample = F.cross_entropy(reference, labels, reduction="none")
    (torch.tensor(expected_weights) * per_sample).mean().backward()
    torch.testing.assert_close(logits.grad, reference.grad)
