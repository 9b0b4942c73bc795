"""docs/adding-a-defense.md, followed step by step: the toy package in tests/toy_defense declares
its defense as an ``unpoison.defenses`` entry point; once installed it is listed, runs through
the shared command line, resumes, and keeps the contract, with no other file changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from defense_contract import (
    BAD_INPUT,
    check_an_unknown_model_fails_before_training,
    check_bad_input_fails_before_training,
    check_registration,
    check_training_ignores_the_true_flags_and_labels,
)
from unpoison.defenses import registry
from unpoison.defenses.cli import main

TOY = Path(__file__).parent / "toy_defense"
GUIDE = Path(__file__).parents[1] / "docs" / "adding-a-defense.md"
SHORT = ["--set", "batch_size=256", "--attack", "trojan-3x3", "--device", "cpu"]


def test_step_0_before_installation_there_is_no_toy(tmp_path, capsys) -> None:
    with pytest.raises(ValueError, match="unknown defense 'toy'; installed: abl, cbd, d-br"):
        registry.get("toy")
    with pytest.raises(SystemExit):
        main(["toy", "--out", str(tmp_path)])
    assert "invalid choice: 'toy'" in capsys.readouterr().err


def code_blocks(language: str) -> list[str]:
    """The guide's ``language`` code blocks, without those that elide code with "..."."""
    blocks = GUIDE.read_text().split(f"```{language}\n")[1:]
    return [b.split("```")[0] for b in blocks if "..." not in b.split("```")[0]]


def test_steps_1_to_4_the_guide_shows_the_toy_package() -> None:
    source = (TOY / "src" / "toy_defense" / "__init__.py").read_text()
    assert len(code_blocks("python")) == 2  # the config and the declaration
    for block in code_blocks("python"):
        assert block in source, block
    assert code_blocks("toml") == [
        '[project.entry-points."unpoison.defenses"]\ntoy = "toy_defense:DEFENSE"\n'
    ]
    assert code_blocks("toml")[0] in (TOY / "pyproject.toml").read_text()


def install(site: Path) -> None:
    """What ``pip install tests/toy_defense`` leaves for entry-point discovery: the package on
    the path and a dist-info holding the entry points its pyproject.toml declares."""
    project = tomllib.loads((TOY / "pyproject.toml").read_text())["project"]
    info = site / f"toy_defense-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    entry_points = project["entry-points"]["unpoison.defenses"]
    (info / "entry_points.txt").write_text(
        "[unpoison.defenses]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The toy defense installed into a fresh folder on sys.path, for this module only."""
    site = tmp_path_factory.mktemp("site")
    install(site)
    sys.path[:0] = [str(site), str(TOY / "src")]
    registry.refresh()
    yield site
    sys.path.remove(str(site))
    sys.path.remove(str(TOY / "src"))
    sys.modules.pop("toy_defense", None)
    registry.refresh()


def command(site: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m unpoison.defenses ARGS`` with the toy installed."""
    path = os.pathsep.join([str(site), str(TOY / "src"), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "unpoison.defenses", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )


def test_step_4_the_installed_defense_is_listed(site) -> None:
    listed = command(site, "--list")
    assert listed.returncode == 0, listed.stderr
    assert "toy  (toy-defense)" in listed.stdout
    assert "Warms up on the poisoned set" in listed.stdout
    assert "toy" in registry.names()


def test_step_4_it_runs_through_the_shared_command_line(site, tmp_path) -> None:
    out = tmp_path / "run"
    ran = command(site, "toy", "--out", str(out), *SHORT)
    assert ran.returncode == 0, ran.stderr
    record = json.loads((out / "results.json").read_text())
    assert record["defense"]["name"] == "toy"
    assert record["defense"]["variant"] is None  # batch_size 256 is no variant's
    assert record["defense"]["config"]["batch_size"] == 256
    assert record["poisoning"]["attack"]["name"] == "trojan-3x3"
    assert set(record["stage_seconds"]) == {"warmup", "trim", "finetune"}
    assert record["packages"]["toy-defense"] == "0.1.0"
    asr = record["metrics"]["model"]["asr"]
    assert f"asr={asr:.2f}" in ran.stdout
    # a finished run resumes to the same numbers, and refuses other settings
    again = command(site, "toy", "--out", str(out), *SHORT, "--resume")
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "results.json").read_text())["metrics"] == record["metrics"]
    refused = command(site, "toy", "--out", str(out), *SHORT, "--resume", "--set", "trim=0.2")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: {out} holds a run with other settings (defense.config.trim): repeat its "
        "settings to resume it, or pick another --out"
    ]


def test_step_5_it_keeps_the_contract(site, poisoned_digits, tmp_path) -> None:
    check_registration("toy")
    check_training_ignores_the_true_flags_and_labels("toy", poisoned_digits[0])
    check_an_unknown_model_fails_before_training("toy", poisoned_digits[0], tmp_path / "model")
    for args, error, message in BAD_INPUT:
        check_bad_input_fails_before_training("toy", tmp_path / "input", args, error, message)
