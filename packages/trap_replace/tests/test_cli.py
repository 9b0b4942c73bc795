"""``python -m trap_replace``: help, options, and a short run with the holdout kept aside."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import trap_replace
from trap_replace.__main__ import main
from unpoison.runner import DefenseRun, RunExistsError

SHORT = ["--trap-epochs", "1", "--replace-epochs", "1"]


class Planned(Exception):
    """Raised in place of the run's first step: carries the run ``main`` set up."""

    def __init__(self, run: DefenseRun) -> None:
        self.run = run


def planned(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> DefenseRun:
    """The run (config, poisoning) ``main(argv)`` sets up, stopped before any work."""

    def stop(run: DefenseRun, folder: Path, resume: bool) -> None:
        raise Planned(run)

    monkeypatch.setattr(DefenseRun, "check", stop)
    with pytest.raises(Planned) as stopped:
        main([*argv, "--device", "cpu"])
    return stopped.value.run


def test_help_explains_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trap_replace", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Trap and Replace" in " ".join(out.split())
    for flag in ("--holdout", "--mini", "--no-reconstruction", "--keep-head", "--resume"):
        assert flag in out


def test_options_override_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    run = planned([], monkeypatch)
    assert run.config == trap_replace.TrapReplaceConfig()
    assert run.poisoning.holdout == 0.05 and run.poisoning.selection == "first-non-target"
    mini = planned(
        ["--mini", "--stem-end-block", "4", "--keep-head", "--no-reconstruction"], monkeypatch
    )
    assert mini.poisoning.holdout == 0.2
    expected = replace(
        trap_replace.MINI_VARIANT, stem_end_block=4, replace_head=False, reconstruct=False
    )
    assert mini.config == expected
    assert planned(["--mini", "--holdout", "0.1"], monkeypatch).poisoning.holdout == 0.1


def test_a_short_run_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--mini", "--out", str(out), "--device", "cpu", *SHORT]
    assert main(args) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["poisoning"]["holdout"] == 0.2
    assert record["poisoning"]["selection"] == "first-non-target"
    assert record["defense"]["name"] == "trap-replace"
    assert record["defense"]["config"]["trap_epochs"] == 1
    assert set(record["stage_seconds"]) == {"trap", "replace"}
    assert 0.0 <= record["metrics"]["model"]["asr"] <= 100.0
    assert 0.0 <= record["metrics"]["trapped"]["asr"] <= 100.0
    assert list(out.glob("events.out.tfevents.*"))
    with pytest.raises(RunExistsError, match="--resume"):
        main(["--out", str(out), *SHORT])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("trap_epochs", 0),
        ("replace_batch_size", 0),
        ("stem_end_block", 3),
        ("tv_weight", -1.0),
        ("cutmix_beta", 0.0),
        ("label_smoothing", 1.0),
        ("head_dropout", 1.0),
    ],
)
def test_bad_config_values_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        trap_replace.TrapReplaceConfig(**{field: value})
