"""The defense ``none`` (plain training): a short WRN-16-1 run on poisoned digits; determinism,
logging and exact resume."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import unpoison.attacks
import unpoison.data
from torch import nn
from unpoison.data.split import PoisonedSplit, Split
from unpoison.defenses.none import DEFENSE as NONE
from unpoison.logging import NullLogger
from unpoison.metrics import evaluate
from unpoison.train import stages
from unpoison.train.checkpoint import LATEST, Checkpointer
from unpoison.train.no_defense import NoDefenseConfig

STAGE = "no_defense"

TARGET = 0
NUM_CLASSES = 10
CONFIG = NoDefenseConfig(epochs=2, batch_size=64, milestones=(1,))  # lr 0.1, then 0.01
METRIC_KEYS = {"ca_all", "ca_nontarget", "asr"}


@dataclass(frozen=True)
class Data:
    poisoned: PoisonedSplit
    test: Split
    backdoor_test: Split


@dataclass(frozen=True)
class Run:
    model: nn.Module
    metrics: dict[str, float]
    records: list[tuple[str, float, int]]


class RecordingLogger(NullLogger):
    def __init__(self) -> None:
        self.records: list[tuple[str, float, int]] = []

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.records.append((tag, value, step))


class Interrupted(Exception):
    """Stands for the process being killed right after a checkpoint was written."""


class StopAfterFirstSave(Checkpointer):
    def save(self, **kw: object) -> None:
        super().save(**kw)
        raise Interrupted


@pytest.fixture(scope="module")
def data() -> Data:
    dataset = unpoison.data.load("digits")
    attack = unpoison.attacks.create("badnets-grid")
    train = dataset.train.subset(torch.arange(192))
    poisoned = unpoison.attacks.poison(
        train, attack=attack, rate=0.1, target=TARGET, seed=0, num_classes=NUM_CLASSES
    )
    test = dataset.test.subset(torch.arange(120))
    backdoor = unpoison.attacks.backdoor_test_set(test, attack, TARGET, NUM_CLASSES)
    return Data(poisoned, test, backdoor)


def _train(data: Data, seed: int = 0, checkpoint_dir: Path | None = None) -> Run:
    logger = RecordingLogger()
    result = NONE.train(
        data.poisoned,
        num_classes=NUM_CLASSES,
        config=CONFIG,
        test=data.test,
        backdoor_test=data.backdoor_test,
        target=TARGET,
        seed=seed,
        logger=logger,
        checkpoint_dir=checkpoint_dir,
    )
    return Run(result.model, result.metrics["model"], logger.records)


@pytest.fixture(scope="module")
def uninterrupted(data: Data) -> Run:
    return _train(data)


def _assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert list(state_a) == list(state_b)
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name


def test_data_is_poisoned_as_configured(data: Data) -> None:
    assert len(data.poisoned) == 192
    assert int(data.poisoned.is_poison.sum()) == 19  # int(0.1 * 192)
    assert torch.all(data.poisoned.y[data.poisoned.is_poison] == TARGET)
    assert torch.all(data.backdoor_test.y == TARGET)
    assert len(data.backdoor_test) == int((data.test.y != TARGET).sum())


def test_returns_the_final_test_metrics(data: Data, uninterrupted: Run) -> None:
    assert set(uninterrupted.metrics) == METRIC_KEYS
    assert all(0.0 <= v <= 100.0 for v in uninterrupted.metrics.values())
    recomputed = evaluate(uninterrupted.model, data.test, data.backdoor_test, TARGET)
    assert uninterrupted.metrics == recomputed
    assert sum(p.numel() for p in uninterrupted.model.parameters()) == 175_066  # WRN-16-1


def test_logs_loss_step_lr_and_metrics_each_epoch(uninterrupted: Run) -> None:
    tags = [(tag, step) for tag, _, step in uninterrupted.records]
    per_epoch = ["loss", "lr", "ca_all", "ca_nontarget", "asr"]
    assert tags == [(f"{STAGE}/{name}", step) for step in (1, 2) for name in per_epoch]
    values = {(tag, step): value for tag, value, step in uninterrupted.records}
    assert values[(f"{STAGE}/lr", 1)] == pytest.approx(0.1)
    assert values[(f"{STAGE}/lr", 2)] == pytest.approx(0.01)
    assert all(values[(f"{STAGE}/loss", step)] > 0 for step in (1, 2))
    # the last epoch's evaluation is of the returned model
    for name in METRIC_KEYS:
        assert values[(f"{STAGE}/{name}", 2)] == uninterrupted.metrics[name]


def test_same_seed_gives_the_same_model_and_metrics(data: Data, uninterrupted: Run) -> None:
    again = _train(data)
    assert again.metrics == uninterrupted.metrics
    assert again.records == uninterrupted.records
    _assert_same_weights(again.model, uninterrupted.model)


def test_resumed_run_equals_the_uninterrupted_run(
    data: Data, uninterrupted: Run, tmp_path: Path, monkeypatch
) -> None:
    with monkeypatch.context() as patch, pytest.raises(Interrupted):
        patch.setattr(stages, "Checkpointer", StopAfterFirstSave)
        _train(data, checkpoint_dir=tmp_path)
    record = json.loads((tmp_path / LATEST).read_text())
    assert (record["stage"], record["epoch"]) == (STAGE, 1)
    after_one_epoch = Checkpointer(tmp_path).load().tensors["module.model.fc.weight"]
    final = uninterrupted.model.state_dict()["fc.weight"]
    assert not torch.equal(after_one_epoch, final)  # the resumed epoch has work left to do

    resumed = _train(data, checkpoint_dir=tmp_path)
    assert resumed.metrics == uninterrupted.metrics
    _assert_same_weights(resumed.model, uninterrupted.model)
    # only the second epoch ran, and it logged what the uninterrupted run logged for it
    assert resumed.records == [r for r in uninterrupted.records if r[2] == 2]
    record = json.loads((tmp_path / LATEST).read_text())
    assert (record["stage"], record["epoch"]) == (STAGE, 2)

    finished = _train(data, checkpoint_dir=tmp_path)
    assert finished.records == []
    assert finished.metrics == uninterrupted.metrics
    _assert_same_weights(finished.model, uninterrupted.model)


def test_milestones_must_be_increasing_positive_epochs() -> None:
    with pytest.raises(ValueError, match="milestones must be increasing positive epochs"):
        NoDefenseConfig(milestones=(75, 50))
