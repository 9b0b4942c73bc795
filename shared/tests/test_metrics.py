"""metrics: predict, accuracy, evaluate (CA_all, CA_nontarget, ASR) and poison separation."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from unpoison.data.split import Split
from unpoison.metrics import accuracy, evaluate, predict, separation

NUM_CLASSES = 3


class PixelClassifier(nn.Module):
    """Predicts the class written (as a uint8 value) into pixel (0, 0) of channel 0.

    Records what it was fed, so tests can check the input convention (float x / 255,
    channels-last) and the batching.
    """

    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))  # predict reads the device from a parameter
        self.seen: list[torch.Tensor] = []
        self.training_during_forward: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x)
        self.training_during_forward.append(self.training)
        label = torch.round(x[:, 0, 0, 0] * 255).long()
        return nn.functional.one_hot(label, NUM_CLASSES).float() + 0 * self.unused


def _images(pixel_labels: list[int], size: int = 4) -> torch.Tensor:
    """uint8 [N, 3, size, size] images whose pixel (0, 0, 0) holds the wanted prediction."""
    x = torch.full((len(pixel_labels), 3, size, size), 200, dtype=torch.uint8)
    x[:, 0, 0, 0] = torch.tensor(pixel_labels, dtype=torch.uint8)
    return x


def _split(pixel_labels: list[int], labels: list[int]) -> Split:
    return Split(x=_images(pixel_labels), y=torch.tensor(labels, dtype=torch.int64))


# ---------------------------------------------------------------- predict


def test_predict_feeds_channels_last_floats_over_255_in_batches() -> None:
    model = PixelClassifier()
    x = _images([0, 1, 2, 2, 1, 0, 1, 2])
    preds = predict(model, x, batch_size=3)
    assert preds.tolist() == [0, 1, 2, 2, 1, 0, 1, 2]
    assert preds.dtype == torch.int64
    assert [len(batch) for batch in model.seen] == [3, 3, 2]
    fed = torch.cat(model.seen)
    assert fed.dtype == torch.float32
    assert torch.equal(fed, x.float() / 255)
    assert all(b.is_contiguous(memory_format=torch.channels_last) for b in model.seen)


def test_predict_does_not_modify_the_input_images() -> None:
    x = _images([2, 1, 0])
    before = x.clone()
    predict(PixelClassifier(), x)
    assert torch.equal(x, before)


@pytest.mark.parametrize("training", [True, False])
def test_predict_runs_in_eval_mode_and_restores_the_mode(training: bool) -> None:
    model = PixelClassifier()
    model.train(training)
    predict(model, _images([0, 1]))
    assert model.training_during_forward == [False]
    assert model.training is training


def test_predict_on_no_images_gives_an_empty_int64_tensor() -> None:
    preds = predict(PixelClassifier(), torch.zeros(0, 3, 4, 4, dtype=torch.uint8))
    assert preds.shape == (0,)
    assert preds.dtype == torch.int64


# ---------------------------------------------------------------- accuracy / evaluate


def test_accuracy_is_the_fraction_of_correct_predictions() -> None:
    split = _split([0, 1, 2, 0], [0, 1, 1, 1])
    assert accuracy(PixelClassifier(), split) == pytest.approx(0.5)
    assert accuracy(PixelClassifier(), split, batch_size=1) == pytest.approx(0.5)


def test_accuracy_on_an_empty_split_raises() -> None:
    empty = Split(x=torch.zeros(0, 3, 4, 4, dtype=torch.uint8), y=torch.zeros(0, dtype=torch.int64))
    with pytest.raises(ValueError, match="empty split"):
        accuracy(PixelClassifier(), empty)


def test_evaluate_hand_computed_percentages() -> None:
    target = 0
    # labels      0  0  1  1  2  2  1  2
    # predictions 0  1  1  1  2  0  0  2   -> correct T F T T T F F T: 5 of 8
    # non-target images (positions 2..7): correct T T T F F T: 4 of 6
    test = _split([0, 1, 1, 1, 2, 0, 0, 2], [0, 0, 1, 1, 2, 2, 1, 2])
    # the backdoor set is labelled with the target; 3 of 5 images are classified as it
    backdoor = _split([0, 0, 1, 0, 2], [target] * 5)
    metrics = evaluate(PixelClassifier(), test, backdoor, target)
    assert set(metrics) == {"ca_all", "ca_nontarget", "asr"}
    assert metrics["ca_all"] == pytest.approx(62.5)
    assert metrics["ca_nontarget"] == pytest.approx(400 / 6, abs=1e-4)
    assert metrics["asr"] == pytest.approx(60.0, abs=1e-4)


def test_evaluate_nontarget_accuracy_depends_on_the_target() -> None:
    test = _split([0, 1, 1, 1, 2, 0, 0, 2], [0, 0, 1, 1, 2, 2, 1, 2])
    backdoor = _split([2, 2], [2, 2])
    metrics = evaluate(PixelClassifier(), test, backdoor, target=2)
    # non-target images (labels 0 and 1, positions 0, 1, 2, 3, 6): correct T F T T F: 3 of 5
    assert metrics["ca_nontarget"] == pytest.approx(60.0, abs=1e-4)
    assert metrics["ca_all"] == pytest.approx(62.5)
    assert metrics["asr"] == pytest.approx(100.0)


# ---------------------------------------------------------------- separation


def _poison_flags() -> torch.Tensor:
    flags = torch.zeros(10, dtype=torch.bool)
    flags[[1, 3, 5, 7]] = True
    return flags


def test_separation_from_positions() -> None:
    result = separation(torch.tensor([1, 3, 4]), _poison_flags())
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 4)


def test_separation_from_a_boolean_mask_equals_positions() -> None:
    mask = torch.zeros(10, dtype=torch.bool)
    mask[[1, 3, 4]] = True
    assert separation(mask, _poison_flags()) == separation(torch.tensor([1, 3, 4]), _poison_flags())


def test_separation_treats_positions_as_a_set() -> None:
    result = separation(torch.tensor([1, 1, 3, 3]), _poison_flags())
    assert result == {"precision": 1.0, "recall": 0.5}


def test_separation_perfect_selection() -> None:
    assert separation(torch.tensor([7, 5, 3, 1]), _poison_flags()) == {
        "precision": 1.0,
        "recall": 1.0,
    }


def test_separation_with_no_poison_and_with_nothing_selected() -> None:
    no_poison = torch.zeros(10, dtype=torch.bool)
    assert separation(torch.tensor([2, 4]), no_poison) == {"precision": 0.0, "recall": 0.0}
    nothing = torch.zeros(0, dtype=torch.int64)
    assert separation(nothing, _poison_flags()) == {"precision": 0.0, "recall": 0.0}
