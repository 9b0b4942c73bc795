"""``python -m cbd``: help, a short run, and bad input rejected before any training."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cbd
import pytest
import torch
from cbd.__main__ import main
from unpoison.defenses.cli import build_parser, config_from_args
from unpoison.runner import RunExistsError

SHORT = ["--backdoored-epochs", "1", "--clean-epochs", "1"]


def config_of(argv: list[str]) -> cbd.CbdConfig:
    """The config ``python -m cbd`` builds from ``argv``."""
    args = build_parser([cbd.DEFENSE], "python -m cbd", listing=False).parse_args(argv)
    return config_from_args(cbd.DEFENSE, args)


def test_help_explains_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cbd", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "Causality-inspired Backdoor Defense" in " ".join(out.split())  # argparse wraps lines
    for flag in ("--dataset", "--attack", "--rate", "--target", "--disentangle", "--precision"):
        assert flag in out
    assert "--resume" in out


def test_options_override_the_config() -> None:
    assert config_of([]) == cbd.CbdConfig()
    config = config_of(["--mini", "--disentangle", "--clean-epochs", "7", "--batch-size", "32"])
    expected = replace(cbd.MINI_VARIANT, disentangle=True, clean_epochs=7, batch_size=32)
    assert config == expected
    intended = config_of(["--backdoored-schedule", "intended"])
    assert intended.backdoored_schedule == "intended"


def test_a_short_run_writes_results_and_tensorboard_logs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--out", str(out), "--device", "cpu", "--batch-size", "256", "--disentangle", *SHORT]
    assert main([*args, "--precision", "bf16"]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["schema_version"] == 2
    assert record["precision"] == "bf16"
    assert record["device"] == "cpu"
    assert record["poisoning"]["attack"]["name"] == "badnets-grid"
    assert record["poisoning"]["selection"] == "all"
    assert record["defense"]["name"] == "cbd"
    assert record["defense"]["config"]["clean_epochs"] == 1
    assert record["defense"]["config"]["disentangle"] is True
    assert set(record["stage_seconds"]) == {"backdoored", "clean"}
    assert 0.0 <= record["metrics"]["model"]["asr"] <= 100.0
    assert 0.0 <= record["metrics"]["backdoored"]["asr"] <= 100.0
    assert torch.__version__.startswith(record["packages"]["torch"])
    assert list(out.glob("events.out.tfevents.*"))
    # A second run into the same folder must be asked for explicitly.
    with pytest.raises(RunExistsError, match="--resume"):
        main(["--out", str(out), *SHORT])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("backdoored_schedule", "nope"),
        ("backdoored_epochs", 0),
        ("batch_size", 0),
        ("clean_milestones", (70, 20)),
        ("weight_eps", 0.0),
        ("discriminator_dropout", 1.0),
        ("mi_scale", -0.01),
        ("power_iterations", 0),
    ],
)
def test_bad_config_values_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        cbd.CbdConfig(**{field: value})
