"""logging: package versions, atomic JSON writes, TensorBoard events read back, NullLogger."""

from __future__ import annotations

import json
import platform
from importlib import metadata

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from unpoison.logging import (
    NullLogger,
    TensorBoardLogger,
    git_revision,
    package_versions,
    write_json_atomic,
)


class RecordingLogger(NullLogger):
    def __init__(self) -> None:
        self.records: list[tuple[str, float, int]] = []

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.records.append((tag, value, step))


def _events(log_dir) -> EventAccumulator:
    accumulator = EventAccumulator(str(log_dir), size_guidance={"tensors": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


# ---------------------------------------------------------------- NullLogger


def test_null_logger_scalars_forward_with_prefix() -> None:
    logger = RecordingLogger()
    logger.scalars({"loss": 1.5, "lr": 0.1}, 7, prefix="stage")
    logger.scalars({"acc": 0.25}, 8)
    assert logger.records == [("stage/loss", 1.5, 7), ("stage/lr", 0.1, 7), ("acc", 0.25, 8)]


def test_null_logger_accepts_every_call_and_writes_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    logger = NullLogger()
    logger.scalar("a", 1.0, 0)
    logger.scalars({"b": 2.0}, 1, prefix="p")
    logger.histogram("h", torch.arange(4.0), 0)
    logger.images("i", torch.zeros(2, 3, 4, 4, dtype=torch.uint8), 0)
    logger.text("t", "x")
    logger.close()
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- TensorBoardLogger


def test_tensorboard_scalars_are_read_back(tmp_path) -> None:
    logger = TensorBoardLogger(tmp_path / "tb")
    logger.scalar("train/loss", 0.5, 1)
    logger.scalar("train/loss", 0.25, 2)
    logger.scalars({"ca_all": 93.75, "asr": 12.5}, 3, prefix="eval")
    logger.close()

    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())
    events = _events(tmp_path / "tb")
    assert sorted(events.Tags()["scalars"]) == ["eval/asr", "eval/ca_all", "train/loss"]
    assert [(e.step, e.value) for e in events.Scalars("train/loss")] == [(1, 0.5), (2, 0.25)]
    assert [(e.step, e.value) for e in events.Scalars("eval/ca_all")] == [(3, 93.75)]
    assert [(e.step, e.value) for e in events.Scalars("eval/asr")] == [(3, 12.5)]


def test_tensorboard_histogram_images_and_text(tmp_path) -> None:
    logger = TensorBoardLogger(tmp_path)
    logger.histogram("scores", torch.arange(10.0, requires_grad=True), 4)
    logger.histogram("empty", torch.empty(0), 4)  # skipped, not an error
    logger.images("triggered", torch.zeros(10, 3, 4, 4, dtype=torch.uint8), 2)
    logger.text("config", "lr: 0.1")
    logger.close()

    events = _events(tmp_path)
    assert events.Tags()["histograms"] == ["scores"]
    (histogram,) = events.Histograms("scores")
    assert histogram.step == 4
    assert (histogram.histogram_value.num, histogram.histogram_value.sum) == (10, 45)
    assert (histogram.histogram_value.min, histogram.histogram_value.max) == (0, 9)
    (image,) = events.Images("triggered")
    # make_grid: 8 per row, 2-pixel padding -> 2 rows of 8 tiles of 4 + 2 pixels, plus 2
    assert (image.step, image.width, image.height) == (2, 8 * 6 + 2, 2 * 6 + 2)
    (text,) = events.Tensors("config/text_summary")
    assert text.tensor_proto.string_val == [b"lr: 0.1"]


def test_tensorboard_hparams(tmp_path) -> None:
    logger = TensorBoardLogger(tmp_path)
    logger.hparams({"lr": 0.1, "milestones": (50, 75), "model": "wrn-16-1"}, {"asr": 50.0})
    logger.close()

    events = _events(tmp_path)
    assert [(e.step, e.value) for e in events.Scalars("hparam/asr")] == [(0, 50.0)]
    content = events.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert info.hparams["lr"].number_value == 0.1
    assert info.hparams["milestones"].string_value == "(50, 75)"
    assert info.hparams["model"].string_value == "wrn-16-1"


# ---------------------------------------------------------------- JSON and results.json


def test_write_json_atomic_creates_parents_and_leaves_no_temporary_file(tmp_path) -> None:
    path = tmp_path / "a" / "b" / "data.json"
    write_json_atomic(path, {"b": 1, "a": [1.5, None], "p": tmp_path})
    assert [p.name for p in path.parent.iterdir()] == ["data.json"]
    assert json.loads(path.read_text()) == {"a": [1.5, None], "b": 1, "p": str(tmp_path)}
    write_json_atomic(path, [1, 2])
    assert [p.name for p in path.parent.iterdir()] == ["data.json"]
    assert json.loads(path.read_text()) == [1, 2]


def test_package_versions_names_the_installed_versions() -> None:
    versions = package_versions()
    assert versions["python"] == platform.python_version()
    # the distribution version: torch.__version__ may add a local build tag such as "+cu130"
    assert versions["torch"] == metadata.version("torch")
    assert torch.__version__.split("+")[0] == versions["torch"]
    assert versions["numpy"] == metadata.version("numpy")
    assert versions["unpoison-shared"] == metadata.version("unpoison-shared")
    assert set(versions) == {"python", "torch", "torchvision", "numpy", "unpoison-shared"}


def test_git_revision_is_none_without_git(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable to be found
    assert git_revision(tmp_path) is None
