"""A resumed run with other settings is refused before any work, naming the fields that differ,
and leaves the finished run's results.json as it was (the case of ``python -m abl --resume`` on a
finished run with another attack, rate, target and seed)."""

import json
import subprocess
import sys

from abl.__main__ import main

SHORT = ["--mini", "--isolation-epochs", "1", "--finetune-epochs", "1", "--unlearning-epochs", "1"]


def test_resuming_a_finished_run_with_other_settings_is_refused(tmp_path) -> None:
    out = tmp_path / "run"
    assert main(["--out", str(out), "--device", "cpu", *SHORT]) == 0
    results = (out / "results.json").read_text()
    other = ["--attack", "trojan-3x3", "--rate", "0.2", "--target", "3", "--seed", "1"]
    refused = subprocess.run(
        [sys.executable, "-m", "abl", "--out", str(out), *SHORT, *other, "--resume"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"error: {out} holds a run with other settings (poisoning.attack.name, "
        "poisoning.attack.overflow, poisoning.rate, poisoning.target, seed): repeat its settings "
        "to resume it, or pick another --out"
    ]
    assert (out / "results.json").read_text() == results
    assert json.loads(results)["poisoning"]["attack"]["name"] == "badnets-grid"
