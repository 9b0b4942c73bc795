"""The ABL reproduction end to end on its smoke preset: cells, caching, table.json, verdicts."""

import json

import pytest
from reproduce_script import reproduce_script
from unpoison.reproduction import build_rows
from unpoison.reproduction.script import make_cell, verdict

ROW_KEYS = {"dataset", "attack", "defense", "metric", "ours", "paper", "verdict"}


@pytest.fixture(scope="module")
def reproduce():
    with reproduce_script("abl") as module:
        yield module


def test_smoke_preset_writes_the_table_and_reuses_finished_cells(reproduce, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--preset", "smoke", "--out", str(out), "--device", "cpu"]
    assert reproduce.main(args) == 0
    rows = json.loads((out / "table.json").read_text())
    assert {tuple(sorted(row)) for row in rows} == {tuple(sorted(ROW_KEYS))}
    cells = {(row["defense"], row["metric"]): row for row in rows}
    metrics = ("ASR", "CA", "CA_all")
    assert set(cells) == {(d, m) for d in ("No defense", "ABL") for m in metrics}
    assert cells[("ABL", "CA_all")]["paper"] is None
    # The paper's CIFAR-10 BadNets numbers sit beside ours.
    assert cells[("ABL", "ASR")]["paper"] == 3.04
    assert cells[("No defense", "CA")]["paper"] == 85.43
    assert all(0.0 <= row["ours"] <= 100.0 for row in rows)
    assert cells[("No defense", "CA")]["verdict"] == "reference"
    # ABL's ASR is judged only against a backdoored No-defense model.
    backdoored = cells[("No defense", "ASR")]["ours"] >= 50
    assert cells[("ABL", "ASR")]["verdict"].startswith("untested") != backdoored
    first = capsys.readouterr().out
    assert "BadNets (badnets-grid)" in first and "3.04" in first
    # A second run finds every cell's results and trains nothing.
    assert reproduce.main(args) == 0
    assert capsys.readouterr().out.count("cached") == 2  # the two cells, not recomputed
    assert json.loads((out / "table.json").read_text()) == rows


def test_paper_preset_has_every_row_of_abls_table_with_our_attack(reproduce):
    preset = reproduce.PRESETS["paper"]
    rows = build_rows(reproduce.REPRODUCTION, preset, {})
    # An implemented row is labelled "<paper name> (<our attack>)"; a pending one keeps the name.
    assert all("(" in row.attack for row in rows)
    assert len(rows) == 10 * 2 * 3  # every attack row x {No defense, ABL} x {ASR, CA, CA_all}


def test_the_cba_row_poisons_towards_its_own_class_and_the_others_towards_the_presets(reproduce):
    preset = reproduce.PRESETS["mini"]
    rows = {row.paper_name: row for row in preset.attacks}
    targets = {
        name: make_cell(reproduce.REPRODUCTION, preset, rows[name], "ABL").config["target"]
        for name in ("BadNets", "CBA")
    }
    assert targets == {"BadNets": preset.target, "CBA": 2}


@pytest.mark.parametrize(
    ("defense", "metric", "ours", "paper", "expected"),
    [
        ("ABL", "ASR", 4.0, 3.04, "reproduced"),
        ("ABL", "ASR", 0.5, 16.23, "better than paper"),
        ("ABL", "ASR", 30.0, 3.04, "differs"),
        ("ABL", "CA", 90.0, 86.11, "better than paper"),
        ("No defense", "CA", 80.0, 85.43, "differs"),
    ],
)
def test_numeric_verdicts(reproduce, defense, metric, ours, paper, expected) -> None:
    preset = reproduce.PRESETS["paper"]
    assert verdict(preset, defense, metric, ours, paper, None) == expected


def test_qualitative_verdicts_follow_the_bounds(reproduce) -> None:
    mini = reproduce.PRESETS["mini"]
    assert verdict(mini, "No defense", "ASR", 95.0, 100.0, None).startswith("reproduced")
    assert verdict(mini, "No defense", "ASR", 80.0, 100.0, None).startswith("NOT")
    assert verdict(mini, "ABL", "ASR", 11.0, 3.04, None).startswith("NOT")
    assert verdict(mini, "ABL", "CA", 96.0, 86.11, 98.0).startswith("reproduced")
    assert verdict(mini, "ABL", "CA", 94.0, 86.11, 98.0).startswith("NOT")
