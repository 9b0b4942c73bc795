"""D-ST / D-BR's own losses on hand-computed numbers: the SD fine-tune's class-centre separation
and the ST classifier's mixed cross-entropy."""

import math

import pytest
import torch
from dst_dbr import centre_separation_loss, mixed_cross_entropy


def test_centre_separation_on_a_hand_computed_batch() -> None:
    # class 0: (1, 0) and (3, 0) -> centre (2, 0) -> (1, 0); class 2: (0, 2) and (2, 2) -> centre
    # (1, 2) -> (1, 2)/sqrt(5); class 1 absent. cos = 1/sqrt(5) twice off the diagonal, over a
    # 2 x 2 matrix: (2 / sqrt(5)) / 4.
    features = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [2.0, 2.0]])
    labels = torch.tensor([0, 2, 0, 2])
    loss = centre_separation_loss(features, labels, num_classes=3)
    assert loss.item() == pytest.approx(2 / math.sqrt(5) / 4, abs=1e-6)


def test_centre_separation_is_minus_one_over_k_for_opposite_centres() -> None:
    features = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], requires_grad=True)
    loss = centre_separation_loss(features, torch.tensor([3, 7]), num_classes=10)
    assert loss.item() == pytest.approx(-0.5)  # two off-diagonal -1 entries over 4
    loss.backward()
    assert torch.isfinite(features.grad).all()


def test_one_class_in_the_batch_gives_zero() -> None:
    features = torch.randn(5, 4)
    assert centre_separation_loss(features, torch.full((5,), 1), 3).item() == 0.0


def test_centre_separation_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="features"):
        centre_separation_loss(torch.zeros(3, 2), torch.zeros(4, dtype=torch.long), 2)


def ce(logits: list[float], label: int) -> float:
    return -logits[label] + math.log(sum(math.exp(v) for v in logits))


LOGITS = [[2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [3.0, -1.0]]
LABELS = [0, 0, 1, 1]


def test_mixed_ce_with_suspected_poisoned_samples() -> None:
    suspected = torch.tensor([False, True, False, True])
    loss = mixed_cross_entropy(torch.tensor(LOGITS), torch.tensor(LABELS), suspected, 0.001)
    clean = (ce(LOGITS[0], 0) + ce(LOGITS[2], 1)) / 2
    poisoned = (ce(LOGITS[1], 0) + ce(LOGITS[3], 1)) / 2
    assert loss.item() == pytest.approx(clean - 0.001 * poisoned, abs=1e-6)


def test_mixed_ce_without_suspected_samples_is_the_clean_mean() -> None:
    suspected = torch.zeros(4, dtype=torch.bool)
    loss = mixed_cross_entropy(torch.tensor(LOGITS), torch.tensor(LABELS), suspected, 0.001)
    assert loss.item() == pytest.approx(sum(map(ce, LOGITS, LABELS)) / 4, abs=1e-6)


def test_mixed_ce_with_only_suspected_samples_is_minus_lambda_times_their_mean() -> None:
    suspected = torch.ones(4, dtype=torch.bool)
    loss = mixed_cross_entropy(torch.tensor(LOGITS), torch.tensor(LABELS), suspected, 0.5)
    assert loss.item() == pytest.approx(-0.5 * sum(map(ce, LOGITS, LABELS)) / 4, abs=1e-6)


def test_mixed_ce_rejects_a_non_boolean_mask() -> None:
    with pytest.raises(ValueError, match="bool mask"):
        mixed_cross_entropy(
            torch.zeros(2, 2), torch.zeros(2, dtype=torch.long), torch.zeros(2), 0.1
        )
