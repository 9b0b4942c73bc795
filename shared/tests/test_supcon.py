"""Supervised contrastive loss: hand computations, D-ST's row-only mask, precision, gradients."""

from __future__ import annotations

import math

import pytest
import torch
from unpoison.losses import supcon_loss

# ---------------------------------------------------------------- a hand computation


def _unit(degrees: float) -> tuple[float, float]:
    return math.cos(math.radians(degrees)), math.sin(math.radians(degrees))


def _by_hand(
    vectors: list[tuple[float, float]],
    positives: dict[int, list[int]],
    tau: float,
    base: float = 0.07,
) -> float:
    """SupCon written out anchor by anchor in plain Python; ``positives`` is spelled out by hand."""
    per_anchor = []
    for i, zi in enumerate(vectors):
        others = [j for j in range(len(vectors)) if j != i]
        logit = {j: (zi[0] * vectors[j][0] + zi[1] * vectors[j][1]) / tau for j in others}
        log_denominator = math.log(sum(math.exp(logit[j]) for j in others))
        log_probs = [logit[j] - log_denominator for j in positives[i]]
        # an anchor without positive contributes 0 (its positive count is clamped to 1)
        per_anchor.append(sum(log_probs) / max(len(log_probs), 1))
    return -(tau / base) * sum(per_anchor) / len(per_anchor)


# Three samples, two views each, labels (0, 0, 1). In the hand computation the anchors are
# numbered sample by sample: a0, a1 = sample 0; a2, a3 = sample 1; a4, a5 = sample 2.
ANGLES = [(0.0, 60.0), (90.0, 180.0), (30.0, 270.0)]
VECTORS = [_unit(a) for pair in ANGLES for a in pair]
LABELS = torch.tensor([0, 0, 1])
FEATURES = torch.tensor([[_unit(a) for a in pair] for pair in ANGLES], dtype=torch.float32)

# Every other view with the same label.
SUPERVISED = {0: [1, 2, 3], 1: [0, 2, 3], 2: [0, 1, 3], 3: [0, 1, 2], 4: [5], 5: [4]}
# Sample 1 instance-only: its rows keep only its own other view; rows of sample 0 are unchanged,
# so a0 and a1 still count a2 and a3 as positives (columns are not masked).
ROW_ONLY = {0: [1, 2, 3], 1: [0, 2, 3], 2: [3], 3: [2], 4: [5], 5: [4]}
# What masking rows *and* columns would give: not what D-ST's code does.
ROW_AND_COLUMN = {0: [1], 1: [0], 2: [3], 3: [2], 4: [5], 5: [4]}


def test_two_views_against_the_hand_computation() -> None:
    expected = _by_hand(VECTORS, SUPERVISED, tau=0.1)
    loss = supcon_loss(FEATURES, LABELS)
    assert loss.shape == () and loss.dtype == torch.float32
    assert loss.item() == pytest.approx(expected, abs=1e-5)
    # a plain instance loss (every sample its own class) is a different number
    assert supcon_loss(FEATURES, torch.arange(3)).item() != pytest.approx(expected, abs=1e-3)


def test_one_view_closed_form_with_an_anchor_without_positive() -> None:
    # z0 = (1, 0), z1 = (0, 1), z2 = (-1, 0); labels (0, 0, 1); tau 0.1:
    #   anchor 0: positive z1 with logit 0, the other is z2 with logit -10
    #             -> log_prob = 0 - log(e^0 + e^-10) = -log(1 + e^-10)
    #   anchor 1: positive z0 with logit 0, the other is z2 with logit 0 -> log_prob = -log 2
    #   anchor 2: label 1 occurs once and V = 1 -> no positive -> contributes 0
    #   loss = -(0.1 / 0.07) * (-log(1 + e^-10) - log 2 + 0) / 3
    features = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]], [[-1.0, 0.0]]])
    expected = (0.1 / 0.07) * (math.log1p(math.exp(-10)) + math.log(2)) / 3
    loss = supcon_loss(features, LABELS)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert loss.item() == pytest.approx(0.3300917, abs=1e-6)
    # the same through the generic hand computation
    vectors = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)]
    assert loss.item() == pytest.approx(_by_hand(vectors, {0: [1], 1: [0], 2: []}, 0.1), rel=1e-5)


def test_no_anchor_with_a_positive_gives_zero_not_nan() -> None:
    features = torch.nn.functional.normalize(torch.randn(4, 1, 8), dim=2)
    loss = supcon_loss(features, torch.arange(4))
    assert loss.item() == 0.0
    single = supcon_loss(torch.tensor([[[0.6, 0.8]]]), torch.tensor([3]))
    assert single.item() == 0.0


def test_instance_only_masks_rows_only() -> None:
    flags = torch.tensor([False, True, False])
    loss = supcon_loss(FEATURES, LABELS, instance_only=flags).item()
    assert loss == pytest.approx(_by_hand(VECTORS, ROW_ONLY, tau=0.1), abs=1e-5)
    # the mask changed the value, and not into the row-and-column variant
    assert abs(loss - _by_hand(VECTORS, SUPERVISED, tau=0.1)) > 1e-2
    assert abs(loss - _by_hand(VECTORS, ROW_AND_COLUMN, tau=0.1)) > 1e-2
    # all flags False is the supervised loss; all True is the instance loss
    none = supcon_loss(FEATURES, LABELS, instance_only=torch.zeros(3, dtype=torch.bool))
    assert none.item() == supcon_loss(FEATURES, LABELS).item()
    every = supcon_loss(FEATURES, LABELS, instance_only=torch.ones(3, dtype=torch.bool))
    assert every.item() == pytest.approx(supcon_loss(FEATURES, torch.arange(3)).item(), abs=1e-6)


def test_instance_only_sample_with_one_view_contributes_zero() -> None:
    # z0 = (0, 1) flagged, z1 = (1, 0), z2 = (0, 1); labels (0, 0, 1); V = 1:
    #   anchor 0: instance-only and no other view -> no positive -> 0
    #   anchor 1: the column of sample 0 is kept, so z0 is its positive (logit 0); the other is z2
    #             (logit 0) -> log_prob = 0 - log(e^0 + e^0) = -log 2
    #   anchor 2: unique label -> 0
    #   loss = -(0.1 / 0.07) * (0 - log 2 + 0) / 3
    features = torch.tensor([[[0.0, 1.0]], [[1.0, 0.0]], [[0.0, 1.0]]])
    flags = torch.tensor([True, False, False])
    expected = (0.1 / 0.07) * math.log(2) / 3
    loss = supcon_loss(features, LABELS, instance_only=flags)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # masking the column as well would leave no positive anywhere
    assert supcon_loss(features, torch.arange(3)).item() == 0.0


def test_temperature_and_the_base_temperature_factor() -> None:
    base = supcon_loss(FEATURES, LABELS, temperature=0.1, base_temperature=0.1).item()
    scaled = supcon_loss(FEATURES, LABELS).item()  # tau 0.1, base 0.07: factor 0.1 / 0.07
    assert scaled == pytest.approx(base * 0.1 / 0.07, rel=1e-6)
    assert scaled / base == pytest.approx(1.428571, rel=1e-5)
    for tau in (0.05, 0.5):
        got = supcon_loss(FEATURES, LABELS, temperature=tau).item()
        assert got == pytest.approx(_by_hand(VECTORS, SUPERVISED, tau=tau), rel=1e-5)


def test_bf16_input_gives_the_float32_result() -> None:
    low = FEATURES.to(torch.bfloat16)
    loss = supcon_loss(low, LABELS)
    assert loss.dtype == torch.float32
    assert loss.item() == supcon_loss(low.float(), LABELS).item()
    rounded = [tuple(v) for v in low.float().reshape(6, 2).tolist()]
    assert loss.item() == pytest.approx(_by_hand(rounded, SUPERVISED, tau=0.1), abs=1e-5)
    # the same under bf16 autocast (a matmul would otherwise run in bf16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        auto = supcon_loss(FEATURES, LABELS)
    assert auto.dtype == torch.float32 and auto.item() == supcon_loss(FEATURES, LABELS).item()


def test_gradients_are_finite_and_match_finite_differences() -> None:
    g = torch.Generator().manual_seed(0)
    raw = torch.randn(6, 2, 5, generator=g, dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 2, 2, 3])
    flags = torch.tensor([False, True, False, False, True, False])
    raw.requires_grad_(True)

    def loss_of(r: torch.Tensor) -> torch.Tensor:
        z = torch.nn.functional.normalize(r, dim=2)
        return supcon_loss(z, labels, instance_only=flags)

    assert torch.autograd.gradcheck(loss_of, (raw,))
    # float32, one view with anchors that have no positive: finite, non-zero gradient
    features = torch.nn.functional.normalize(torch.randn(5, 1, 4, generator=g), dim=2)
    features.requires_grad_(True)
    supcon_loss(features, torch.tensor([0, 0, 1, 2, 3])).backward()
    assert features.grad is not None and torch.isfinite(features.grad).all()
    assert features.grad.abs().sum() > 0
    lone = torch.tensor([[[1.0, 0.0]]], requires_grad=True)
    supcon_loss(lone, torch.tensor([0])).backward()
    assert lone.grad is not None and torch.equal(lone.grad, torch.zeros(1, 1, 2))


def test_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[B, V, D\]"):
        supcon_loss(FEATURES.reshape(6, 2), LABELS)
    with pytest.raises(ValueError, match=r"\[B, V, D\]"):
        supcon_loss(FEATURES.long(), LABELS)
    with pytest.raises(ValueError, match="non-empty"):
        supcon_loss(torch.zeros(0, 2, 2), torch.zeros(0, dtype=torch.int64))
    with pytest.raises(ValueError, match="labels"):
        supcon_loss(FEATURES, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="labels"):
        supcon_loss(FEATURES, LABELS.float())
    with pytest.raises(ValueError, match="instance_only"):
        supcon_loss(FEATURES, LABELS, instance_only=torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="instance_only"):
        supcon_loss(FEATURES, LABELS, instance_only=torch.tensor([True, False]))
    with pytest.raises(ValueError, match="temperature"):
        supcon_loss(FEATURES, LABELS, temperature=0.0)
