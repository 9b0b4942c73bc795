"""unpoison.runner: the results.json schema, the run fingerprint and what resuming checks."""

from __future__ import annotations

import json
from importlib import metadata

import pytest
import torch
from unpoison.runner import RunExistsError, results
from unpoison.runner.fingerprint import (
    FINGERPRINT,
    check_resumable,
    differing_fields,
    normalized,
    record,
)
from unpoison.train.checkpoint import LATEST

FINGERPRINT_OF_A_RUN = {
    "poisoning": {
        "dataset": "digits",
        "attack": {"name": "badnets-grid", "size": 3},
        "rate": 0.1,
        "target": 0,
        "selection": "all",
        "holdout": None,
    },
    "defense": {"name": "abl", "config": {"isolation_epochs": 5, "milestones": (3,)}},
    "seed": 0,
    "precision": "fp32",
}


def changed(**fields) -> dict:
    """FINGERPRINT_OF_A_RUN with dotted ``fields`` (written with "__") replaced."""
    copy = json.loads(json.dumps(FINGERPRINT_OF_A_RUN))
    for path, value in fields.items():
        *parents, last = path.split("__")
        inner = copy
        for name in parents:
            inner = inner[name]
        inner[last] = value
    return copy


def test_the_results_record_follows_the_schema(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(results, "git_revision", lambda path: "abc123")
    metrics = {"model": {"ca_all": 91.5, "asr": 3.25}, "isolation": {"precision": 1.0}}
    path = results.write_results(
        tmp_path / "run",
        fingerprint=normalized(FINGERPRINT_OF_A_RUN),
        variant="mini",
        device=torch.device("cpu"),
        metrics=metrics,
        stage_seconds={"isolation": 1.5, "unlearning": 2.25},
        packages=("pytest", "no-such-package-here"),
        reproduction={"name": "abl", "preset": "mini", "column": "ABL"},
    )
    assert path == tmp_path / "run" / "results.json"
    saved = json.loads(path.read_text())
    assert saved["schema_version"] == results.SCHEMA_VERSION == 2
    assert saved["defense"] == {
        "name": "abl",
        "variant": "mini",
        "config": {"isolation_epochs": 5, "milestones": [3]},
    }
    assert saved["poisoning"]["attack"] == {"name": "badnets-grid", "size": 3}
    assert (saved["seed"], saved["precision"], saved["device"]) == (0, "fp32", "cpu")
    assert saved["metrics"] == metrics
    assert saved["wall_seconds"] == pytest.approx(3.75)
    assert saved["git_revision"] == "abc123"
    assert saved["packages"]["pytest"] == metadata.version("pytest")
    assert saved["packages"]["no-such-package-here"] is None
    assert saved["reproduction"] == {"name": "abl", "preset": "mini", "column": "ABL"}


def test_the_fields_that_differ_are_named_by_their_dotted_paths() -> None:
    assert differing_fields(FINGERPRINT_OF_A_RUN, normalized(FINGERPRINT_OF_A_RUN)) == []
    other = changed(seed=1, poisoning__rate=0.2, poisoning__attack__size=5)
    assert differing_fields(FINGERPRINT_OF_A_RUN, other) == [
        "poisoning.attack.size",
        "poisoning.rate",
        "seed",
    ]
    other = changed(defense__config__milestones=[4])
    assert differing_fields(FINGERPRINT_OF_A_RUN, other) == ["defense.config.milestones"]


def test_a_fresh_folder_runs_and_records_its_fingerprint(tmp_path) -> None:
    checkpoints = tmp_path / "run" / "checkpoints"
    check_resumable(checkpoints, FINGERPRINT_OF_A_RUN, resume=False)
    record(checkpoints, FINGERPRINT_OF_A_RUN)
    assert json.loads((checkpoints / FINGERPRINT).read_text()) == normalized(FINGERPRINT_OF_A_RUN)
    check_resumable(checkpoints, FINGERPRINT_OF_A_RUN, resume=True)  # the same settings resume


def test_a_folder_with_a_run_needs_resume(tmp_path) -> None:
    checkpoints = tmp_path / "run" / "checkpoints"
    record(checkpoints, FINGERPRINT_OF_A_RUN)
    with pytest.raises(RunExistsError, match="already holds a run: pass --resume"):
        check_resumable(checkpoints, FINGERPRINT_OF_A_RUN, resume=False)


def test_resuming_with_other_settings_names_them(tmp_path) -> None:
    checkpoints = tmp_path / "run" / "checkpoints"
    record(checkpoints, FINGERPRINT_OF_A_RUN)
    record(checkpoints, changed(seed=3))  # a resumed run keeps its own fingerprint
    with pytest.raises(ValueError, match=r"other settings \(poisoning.target, seed\)"):
        check_resumable(checkpoints, changed(seed=3, poisoning__target=2), resume=True)


def test_a_run_without_a_fingerprint_is_not_resumed(tmp_path) -> None:
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / LATEST).write_text("{}")
    with pytest.raises(ValueError, match=f"without a {FINGERPRINT}"):
        check_resumable(checkpoints, FINGERPRINT_OF_A_RUN, resume=True)
