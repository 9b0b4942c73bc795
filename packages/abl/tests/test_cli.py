"""``python -m abl``: help, a short run, and bad input rejected before any training."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import abl
import pytest
import torch
from abl.__main__ import main
from unpoison.runner import RunExistsError

SHORT = ["--isolation-epochs", "1", "--finetune-epochs", "1", "--unlearning-epochs", "1"]


def test_help_explains_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "abl", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "Anti-Backdoor Learning" in out
    for flag in ("--dataset", "--attack", "--rate", "--target", "--variant", "--resume"):
        assert flag in out


def test_a_short_run_writes_results_and_tensorboard_logs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["--out", str(out), "--device", "cpu", "--batch-size", "256", *SHORT]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["schema_version"] == 2
    assert record["poisoning"]["attack"]["name"] == "badnets-grid"
    assert record["defense"]["name"] == "abl"
    assert record["defense"]["variant"] is None  # the code variant with changed epochs
    assert record["defense"]["config"]["isolation_epochs"] == 1
    assert record["defense"]["config"]["batch_size"] == 256
    assert record["device"] == "cpu"
    assert set(record["stage_seconds"]) == {"isolation", "scoring", "finetune", "unlearning"}
    assert 0.0 <= record["metrics"]["model"]["asr"] <= 100.0
    assert torch.__version__.startswith(record["packages"]["torch"])
    assert list(out.glob("events.out.tfevents.*"))
    # A second run into the same folder must be asked for explicitly.
    with pytest.raises(RunExistsError, match="--resume"):
        main(["--out", str(out), *SHORT])


def test_a_wrongly_shaped_image_is_rejected(digits) -> None:
    from unpoison import attacks

    grey = replace(digits.train, x=digits.train.x[:, :1])  # one channel instead of three
    with pytest.raises(ValueError, match="channel"):
        attacks.poison(grey, attacks.create("trojan-3x3"), 0.1, 0, num_classes=10)
    tiny = replace(digits.train, x=digits.train.x[:, :, :2, :2])  # 2x2: no room for the trigger
    with pytest.raises(ValueError, match=r"2x2|too small|at least"):
        attacks.poison(tiny, attacks.create("badnets-grid"), 0.1, 0, num_classes=10)


def test_bad_config_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="isolation_ratio"):
        abl.AblConfig(isolation_ratio=1.5)
    with pytest.raises(ValueError, match="isolation_loss"):
        abl.AblConfig(isolation_loss="nope")
    with pytest.raises(ValueError, match="finetune_milestones"):
        abl.AblConfig(finetune_milestones=(0,))
