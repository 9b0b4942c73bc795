"""The SD module's thresholds and three-way split on hand-made scores, and the FCT score."""

import pytest
import torch
from dst_dbr import CLEAN, POISONED, UNCERTAIN, fct_scores, split_flags, thresholds
from unpoison.data import RotateTranslate


def test_thresholds_are_the_codes_quantile_positions() -> None:
    scores = torch.arange(100, dtype=torch.float32).flip(0)  # order does not matter
    clean, poisoned = thresholds(scores, 0.20, 0.05)
    assert (clean, poisoned) == (20.0, 95.0)  # sorted[int(100 * 0.2)], sorted[100 - 5]


def test_split_sizes_on_distinct_scores() -> None:
    scores = torch.randperm(1000, generator=torch.Generator().manual_seed(0)).float()
    flags = split_flags(scores, *thresholds(scores, 0.20, 0.05))
    # <= gamma_c takes positions 0..200 (201 images), >= gamma_p the last 50
    assert int((flags == CLEAN).sum()) == 201
    assert int((flags == POISONED).sum()) == 50
    assert int((flags == UNCERTAIN).sum()) == 749
    assert torch.equal(flags[scores >= 950], torch.full((50,), POISONED))


def test_clean_wins_when_the_thresholds_meet() -> None:
    flags = split_flags(torch.tensor([1.0, 2.0, 3.0]), 2.0, 2.0)
    assert flags.tolist() == [CLEAN, CLEAN, POISONED]


def test_too_few_scores_for_a_poisoned_part_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least 1 / poison_ratio"):
        thresholds(torch.zeros(10), 0.2, 0.05)


class CornerFeatures(torch.nn.Module):
    """A 'model' whose features are the bottom-right 3x3 pixels: a trigger detector."""

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, -3:, -3:].flatten(1)


def test_fct_is_the_feature_mse_and_high_for_a_corner_trigger() -> None:
    images = torch.zeros(64, 3, 32, 32, dtype=torch.uint8)
    images[:32, :, -3:, -3:] = 255  # triggered half
    generator = torch.Generator().manual_seed(0)
    scores = fct_scores(CornerFeatures(), images, RotateTranslate(), generator, batch_size=16)
    assert scores.shape == (64,)
    assert torch.all(scores[32:] == 0)  # nothing in the corner moves into it under rotation
    assert scores[:32].mean() > 0.5  # the trigger leaves the corner; MSE of up to 1 per pixel
    assert scores.max() <= 1.0
