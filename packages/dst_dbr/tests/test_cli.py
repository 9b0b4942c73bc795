"""``python -m dst_dbr``: help, the options, and a short run of each method."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import dst_dbr
import pytest
from dst_dbr.__main__ import config_from_args, main, parse_args

SHORT_SD = ["--sd-train-epochs", "1", "--sd-finetune-epochs", "1"]
SHORT = {
    "d-st": [*SHORT_SD, "--extractor-epochs", "2", "--classifier-epochs", "1"],  # 2: the warm-up
    "d-br": [*SHORT_SD, "--backdoored-epochs", "1", "--br-epochs", "1"],
}


def test_help_explains_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dst_dbr", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "rotated and shifted" in " ".join(out.split())  # argparse wraps lines
    for flag in ("d-st", "d-br", "--mini", "--contrast", "--single-pass-split", "--resume"):
        assert flag in out


def test_options_override_the_config() -> None:
    assert config_from_args(parse_args(["d-st"])) == dst_dbr.DSTConfig()
    assert config_from_args(parse_args(["d-br", "--mini"])) == dst_dbr.MINI_DBR
    config = config_from_args(
        parse_args(["d-st", "--mini", "--contrast", "s-ctl", "--single-pass-split", *SHORT["d-st"]])
    )
    assert config.st == replace(
        dst_dbr.MINI_DST.st, contrast="s-ctl", extractor_epochs=2, classifier_epochs=1
    )
    assert config.sd == replace(
        dst_dbr.MINI_DST.sd, resample_split=False, train_epochs=1, finetune_epochs=1
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["d-br", "--contrast", "ctl"], "--contrast is an option of d-st"),
        (["d-st", "--br-epochs", "3"], "--br-epochs is an option of d-br"),
        (["d-br", "--sd-train-epochs", "0"], "train_epochs"),
    ],
)
def test_options_of_the_other_method_are_rejected(args: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config_from_args(parse_args(args))


@pytest.mark.parametrize("method", ["d-st", "d-br"])
def test_a_short_run_writes_results(method: str, tmp_path: Path) -> None:
    out = tmp_path / method
    assert main([method, "--mini", "--out", str(out), "--device", "cpu", *SHORT[method]]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["config"]["selection"] == "non-target"
    assert record["config"][method]["sd"]["train_epochs"] == 1
    stages = dst_dbr.dst.STAGES if method == "d-st" else dst_dbr.dbr.STAGES
    assert set(record["stage_seconds"]) <= set(stages)
    sizes = [record["metrics"][f"sd_{part}_size"] for part in ("clean", "uncertain", "poisoned")]
    assert sum(sizes) == 1437  # every training image of digits is in exactly one part
    assert list((out).glob("events.out.tfevents.*"))
