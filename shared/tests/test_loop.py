"""loop: train_epoch (mean loss, non-finite detection), run_stage (resume, lr, logging), and the
seeding helpers the loop's reproducibility rests on."""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from unpoison.data.loader import Batch, DeviceLoader
from unpoison.logging import NullLogger
from unpoison.train.loop import (
    LossFn,
    LossMeter,
    NonFiniteLossError,
    cross_entropy,
    run_stage,
    train_epoch,
)
from unpoison.train.seeding import default_device, resolve_device, seed_everything

NUM_IMAGES = 40
BATCH_SIZE = 16  # 40 images: batches of 16, 16 and 8
BATCHES_PER_EPOCH = 3


def _loader(seed: int = 1, index_offset: int = 0) -> DeviceLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (NUM_IMAGES, 3, 4, 4), generator=g, dtype=torch.uint8)
    y = torch.randint(0, 3, (NUM_IMAGES,), generator=g)
    index = torch.arange(NUM_IMAGES) + index_offset
    return DeviceLoader(x, y, BATCH_SIZE, shuffle=True, seed=seed, index=index)


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))


def _sgd(model: nn.Module) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _nan_at(call: int) -> LossFn:
    """A cross-entropy loss that turns NaN at its ``call``-th call (0-based, counted globally)."""
    calls = itertools.count()

    def loss_fn(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(logits, y)
        return loss * float("nan") if next(calls) == call else loss

    return loss_fn


class RecordingLogger(NullLogger):
    def __init__(self) -> None:
        self.records: list[tuple[str, float, int]] = []

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.records.append((tag, value, step))


class RecordingSource:
    """A BatchSource that remembers which epochs were asked for."""

    def __init__(self, loader: DeviceLoader) -> None:
        self.loader = loader
        self.device = loader.device
        self.epochs: list[int] = []

    def epoch(self, e: int) -> Iterator[Batch]:
        self.epochs.append(e)
        return self.loader.epoch(e)


# ---------------------------------------------------------------- train_epoch


def test_train_epoch_equals_a_manual_loop_and_returns_the_mean_batch_loss() -> None:
    loader = _loader()
    model = _model()
    reference = copy.deepcopy(model)
    optimizer, reference_optimizer = _sgd(model), _sgd(reference)
    model.eval()

    mean_loss = train_epoch(model, loader, optimizer, epoch=2)

    reference.train()
    losses = []
    for x, y, _ in loader.epoch(2):
        loss = F.cross_entropy(reference(x), y)
        reference_optimizer.zero_grad()
        loss.backward()
        reference_optimizer.step()
        losses.append(loss.item())
    assert len(losses) == BATCHES_PER_EPOCH
    assert mean_loss == pytest.approx(sum(losses) / len(losses), rel=1e-6)
    assert model.training
    for a, b in zip(model.state_dict().values(), reference.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_train_epoch_passes_logits_labels_and_positions_to_the_loss() -> None:
    loader = _loader(index_offset=100)
    seen: list[torch.Tensor] = []

    def loss_fn(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        assert logits.shape == (len(y), 3)
        seen.append(index)
        return cross_entropy(logits, y, index)

    model = _model()
    train_epoch(model, loader, _sgd(model), epoch=0, loss_fn=loss_fn)
    assert sorted(torch.cat(seen).tolist()) == list(range(100, 100 + NUM_IMAGES))
    expected = torch.cat([index for _, _, index in loader.epoch(0)])
    assert torch.equal(torch.cat(seen), expected)


def test_cross_entropy_is_the_batch_mean_and_ignores_the_index() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 0])
    # two classes, label 0: log(1 + exp(logit_1 - logit_0)) per image
    expected = (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(1.0))) / 2
    assert cross_entropy(logits, y).item() == pytest.approx(expected, rel=1e-6)
    assert cross_entropy(logits, y, torch.tensor([5, 9])).item() == pytest.approx(expected)


@pytest.mark.parametrize("bad_step", [0, 1, 2])
def test_nan_loss_raises_naming_stage_epoch_and_first_step(bad_step: int) -> None:
    model = _model()
    with pytest.raises(NonFiniteLossError) as info:
        train_epoch(model, _loader(), _sgd(model), 3, loss_fn=_nan_at(bad_step), stage="warmup")
    # the steps after the first NaN are NaN too (NaN weights); the first one is reported
    assert str(info.value) == f"non-finite loss in stage 'warmup', epoch 3, step {bad_step}"
    assert isinstance(info.value, RuntimeError)


def test_infinite_loss_raises() -> None:
    def inf_loss(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, y) + float("inf")

    model = _model()
    with pytest.raises(NonFiniteLossError, match="stage 'train', epoch 0, step 0"):
        train_epoch(model, _loader(), _sgd(model), 0, loss_fn=inf_loss)


# ---------------------------------------------------------------- run_stage


def test_run_stage_resumes_sets_lr_calls_back_and_logs() -> None:
    source = RecordingSource(_loader())
    model = _model()
    optimizer = _sgd(model)
    lr_at = {0: 0.9, 1: 0.8, 2: 0.05, 3: 0.02, 4: 0.01}.__getitem__
    losses: list[float] = []
    lrs_seen: list[float] = []

    def loss_fn(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        lrs_seen.append(optimizer.param_groups[0]["lr"])
        loss = F.cross_entropy(logits, y)
        losses.append(loss.item())
        return loss

    evaluations = itertools.count(10)
    epochs_done: list[int] = []
    logger = RecordingLogger()
    result = run_stage(
        stage="fit",
        model=model,
        loader=source,
        optimizer=optimizer,
        lr_at=lr_at,
        epochs=5,
        loss_fn=loss_fn,
        start_epoch=2,
        evaluate=lambda: {"acc": float(next(evaluations))},
        on_epoch_end=epochs_done.append,
        logger=logger,
        progress=False,
    )

    assert source.epochs == [2, 3, 4]
    assert epochs_done == [3, 4, 5]
    assert lrs_seen == [0.05] * 3 + [0.02] * 3 + [0.01] * 3
    epoch_losses = [
        sum(losses[i : i + BATCHES_PER_EPOCH]) / BATCHES_PER_EPOCH
        for i in range(0, len(losses), BATCHES_PER_EPOCH)
    ]
    expected = []
    for k, epoch in enumerate([2, 3, 4]):
        expected += [
            ("fit/loss", pytest.approx(epoch_losses[k], rel=1e-6), epoch + 1),
            ("fit/lr", lr_at(epoch), epoch + 1),
            ("fit/acc", 10.0 + k, epoch + 1),
        ]
    assert logger.records == expected
    assert result == {"loss": pytest.approx(epoch_losses[-1], rel=1e-6), "lr": 0.01, "acc": 12.0}


def test_run_stage_with_nothing_left_to_run() -> None:
    source = RecordingSource(_loader())
    model = _model()
    before = copy.deepcopy(model.state_dict())
    logger = RecordingLogger()
    epochs_done: list[int] = []
    result = run_stage(
        stage="fit",
        model=model,
        loader=source,
        optimizer=_sgd(model),
        lr_at=lambda epoch: 0.1,
        epochs=4,
        start_epoch=4,
        on_epoch_end=epochs_done.append,
        logger=logger,
        progress=False,
    )
    assert result == {}
    assert source.epochs == [] and epochs_done == [] and logger.records == []
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])


def test_run_stage_resumed_equals_uninterrupted() -> None:
    def run(start: int, model: nn.Module, optimizer: torch.optim.Optimizer, end: int) -> None:
        run_stage(
            stage="fit",
            model=model,
            loader=_loader(),
            optimizer=optimizer,
            lr_at=lambda epoch: 0.1 / (epoch + 1),
            epochs=end,
            start_epoch=start,
            progress=False,
        )

    whole = _model()
    run(0, whole, _sgd(whole), 3)
    split = _model()
    split_optimizer = _sgd(split)
    run(0, split, split_optimizer, 1)
    run(1, split, split_optimizer, 3)
    for a, b in zip(whole.state_dict().values(), split.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_run_stage_nan_in_a_later_epoch_stops_there() -> None:
    model = _model()
    epochs_done: list[int] = []
    with pytest.raises(NonFiniteLossError, match=r"stage 'fit', epoch 1, step 1$"):
        run_stage(
            stage="fit",
            model=model,
            loader=_loader(),
            optimizer=_sgd(model),
            lr_at=lambda epoch: 0.1,
            epochs=3,
            loss_fn=_nan_at(BATCHES_PER_EPOCH + 1),
            on_epoch_end=epochs_done.append,
            progress=False,
        )
    assert epochs_done == [1]


# ---------------------------------------------------------------- seeding


def _draws() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()  # noqa: NPY002


def test_seed_everything_seeds_python_numpy_and_torch() -> None:
    seed_everything(123)
    first = _draws()
    seed_everything(123)
    assert _draws() == first
    seed_everything(124)
    other = _draws()
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_resolve_device() -> None:
    assert resolve_device(None) == default_device()
    assert resolve_device("auto") == default_device()
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_the_loss_meter_reports_the_first_non_finite_step() -> None:
    meter = LossMeter(torch.device("cpu"))
    for loss in (1.0, 3.0, float("nan"), float("inf")):
        meter.add(torch.tensor(loss))
    with pytest.raises(NonFiniteLossError, match="stage 'cbd/clean', epoch 4, step 2"):
        meter.mean("cbd/clean", 4)
    finite = LossMeter(torch.device("cpu"))
    for loss in (1.0, 3.0):
        finite.add(torch.tensor(loss))
    assert finite.mean("cbd/clean", 0) == 2.0
