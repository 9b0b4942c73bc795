"""``python -m dst_dbr``: help, the options, and a short run of each method."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import dst_dbr
import pytest
from dst_dbr.__main__ import main
from unpoison.runner import DefenseRun

SHORT_SD = ["--sd-train-epochs", "1", "--sd-finetune-epochs", "1"]
SHORT = {
    "d-st": [*SHORT_SD, "--extractor-epochs", "2", "--classifier-epochs", "1"],  # 2: the warm-up
    "d-br": [*SHORT_SD, "--backdoored-epochs", "1", "--br-epochs", "1"],
}


class Planned(Exception):
    """Raised in place of the run's first step: carries the run ``main`` set up."""

    def __init__(self, run: DefenseRun) -> None:
        self.run = run


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch):
    """``planned(argv)``: the run (defense, config, poisoning) ``main(argv)`` sets up, stopped
    before any work."""

    def stop(run: DefenseRun, folder: Path, resume: bool) -> None:
        raise Planned(run)

    monkeypatch.setattr(DefenseRun, "check", stop)

    def plan(argv: list[str]) -> DefenseRun:
        with pytest.raises(Planned) as stopped:
            main([*argv, "--device", "cpu"])
        return stopped.value.run

    return plan


def help_text(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "dst_dbr", *args, "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return " ".join(out.split())  # argparse wraps lines


def test_help_explains_the_command() -> None:
    out = help_text()
    assert "rotated and shifted" in out
    for method in ("d-st", "d-br"):
        assert method in out
    d_st = help_text("d-st")
    for flag in ("--mini", "--contrast", "--single-pass-split", "--resume"):
        assert flag in d_st
    d_br = help_text("d-br")
    for flag in ("--mini", "--backdoored-epochs", "--single-pass-split", "--resume"):
        assert flag in d_br


def test_options_override_the_config(planned) -> None:
    d_st = planned(["d-st"])
    assert d_st.defense is dst_dbr.DST and d_st.config == dst_dbr.DSTConfig()
    d_br = planned(["d-br", "--mini"])
    assert d_br.defense is dst_dbr.DBR and d_br.config == dst_dbr.MINI_DBR
    config = planned(
        ["d-st", "--mini", "--contrast", "s-ctl", "--single-pass-split", *SHORT["d-st"]]
    ).config
    assert config.st == replace(
        dst_dbr.MINI_DST.st, contrast="s-ctl", extractor_epochs=2, classifier_epochs=1
    )
    assert config.sd == replace(
        dst_dbr.MINI_DST.sd, resample_split=False, train_epochs=1, finetune_epochs=1
    )


@pytest.mark.parametrize(
    ("args", "flag"),
    [(["d-br", "--contrast", "ctl"], "--contrast"), (["d-st", "--br-epochs", "3"], "--br-epochs")],
)
def test_options_of_the_other_method_are_rejected(
    args: list[str], flag: str, planned, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        planned(args)
    assert exited.value.code == 2
    assert f"unrecognized arguments: {flag}" in capsys.readouterr().err


def test_bad_option_values_are_rejected(planned) -> None:
    with pytest.raises(ValueError, match="train_epochs"):
        planned(["d-br", "--sd-train-epochs", "0"])


@pytest.mark.parametrize("method", ["d-st", "d-br"])
def test_a_short_run_writes_results(method: str, tmp_path: Path) -> None:
    out = tmp_path / method
    assert main([method, "--mini", "--out", str(out), "--device", "cpu", *SHORT[method]]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["poisoning"]["selection"] == "non-target"
    assert record["defense"]["name"] == method
    assert record["defense"]["config"]["sd"]["train_epochs"] == 1
    stages = dst_dbr.dst.STAGES if method == "d-st" else dst_dbr.dbr.STAGES
    assert set(record["stage_seconds"]) <= set(stages)
    sizes = [record["metrics"]["sd"][f"{part}_size"] for part in ("clean", "uncertain", "poisoned")]
    assert sum(sizes) == 1437  # every training image of digits is in exactly one part
    assert list((out).glob("events.out.tfevents.*"))
