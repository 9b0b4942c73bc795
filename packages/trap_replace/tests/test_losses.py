"""Stage 1's TV term and stage 2's CutMix, on tensors small enough to check by hand."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from trap_replace import bait_and_trap_loss, cutmix_loss, draw_box, paste, total_variation


def test_total_variation_by_hand() -> None:
    # one 1x2x2 image [[0, 1], [3, 5]]: vertical diffs 3, 4 -> 9 + 16; horizontal 1, 2 -> 1 + 4
    image = torch.tensor([[[[0.0, 1.0], [3.0, 5.0]]]])
    assert total_variation(image).item() == pytest.approx((25 + 5) / 4)
    assert total_variation(torch.ones(2, 3, 4, 4)).item() == 0.0


def test_bait_and_trap_loss_adds_the_weighted_terms() -> None:
    logits, y = torch.tensor([[2.0, 0.0]]), torch.tensor([0])
    x = torch.zeros(1, 1, 2, 2)
    reconstruction = torch.tensor([[[[0.0, 1.0], [3.0, 5.0]]]])
    ce = F.cross_entropy(logits, y).item()
    mse = (0 + 1 + 9 + 25) / 4
    loss = bait_and_trap_loss(logits, y, reconstruction, x, 10.0, 1.0)
    assert loss.item() == pytest.approx(ce + 10 * mse + 30 / 4)
    assert bait_and_trap_loss(logits, y, None, x, 10.0, 1.0).item() == pytest.approx(ce)


def test_cutmix_loss_mixes_the_two_label_smoothed_losses() -> None:
    logits = torch.tensor([[1.0, 0.0, -1.0]])
    a, b = torch.tensor([0]), torch.tensor([2])
    logp = torch.log_softmax(logits, dim=1)[0]
    # label smoothing 0.1 over 3 classes: (1 - 0.1) * nll + 0.1 * mean(-log p)
    smoothed = [0.9 * -logp[k] + 0.1 * -logp.mean() for k in (0, 2)]
    expected = 0.75 * smoothed[0] + 0.25 * smoothed[1]
    assert cutmix_loss(logits, a, b, 0.75, 0.1).item() == pytest.approx(expected.item(), rel=1e-6)


def test_the_box_follows_the_code_formula() -> None:
    rng = np.random.default_rng(3)
    box = draw_box(8, 32, 32, 1.0, rng, "cpu")
    check = np.random.default_rng(3)
    lam = check.beta(1.0, 1.0)
    side = int(32 * np.sqrt(1 - lam))
    row, col = check.integers(32), check.integers(32)
    assert (box.top, box.bottom) == (max(row - side // 2, 0), min(row + side // 2, 32))
    assert (box.left, box.right) == (max(col - side // 2, 0), min(col + side // 2, 32))
    assert sorted(box.permutation.tolist()) == list(range(8))
    area = (box.bottom - box.top) * (box.right - box.left)
    assert box.kept(32, 32) == pytest.approx(1 - area / 1024)


def test_paste_copies_the_box_from_the_permuted_batch() -> None:
    x = torch.arange(2, dtype=torch.float32).view(2, 1, 1, 1).expand(2, 3, 4, 4).clone()
    box = draw_box(2, 4, 4, 1.0, np.random.default_rng(0), "cpu")
    box = type(box)(1, 3, 0, 2, torch.tensor([1, 0]))
    mixed = paste(x, box)
    assert torch.equal(mixed[0, :, 1:3, 0:2], torch.ones(3, 2, 2))
    assert torch.equal(mixed[1, :, 1:3, 0:2], torch.zeros(3, 2, 2))
    outside = torch.ones(4, 4, dtype=torch.bool)
    outside[1:3, 0:2] = False
    assert torch.equal(mixed[:, :, outside], x[:, :, outside])
    assert torch.equal(x[0], torch.zeros(3, 4, 4))  # the input is not modified
