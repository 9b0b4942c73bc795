"""The T&R reproduction on its smoke preset: the holdout, cells, table.json, pending rows."""

import json

import pytest
from reproduce_script import reproduce_script
from unpoison.reproduction import build_rows, make_cell


@pytest.fixture(scope="module")
def reproduce():
    with reproduce_script("trap_replace") as module:
        yield module


def test_smoke_preset_trains_on_the_split_without_the_holdout(reproduce, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--preset", "smoke", "--out", str(out), "--device", "cpu"]
    assert reproduce.main(args) == 0
    rows = json.loads((out / "table.json").read_text())
    cells = {(row["defense"], row["metric"]): row for row in rows}
    metrics = ("ASR", "CA", "CA_nontarget")
    assert set(cells) == {(d, m) for d in ("No defense", "T&R") for m in metrics}
    # T&R's CIFAR-10 BadNet-Grid numbers sit beside ours; CA is CA_all.
    assert cells[("T&R", "ASR")]["paper"] == 1.21
    assert cells[("T&R", "CA")]["paper"] == 84.42
    assert cells[("T&R", "CA")]["verdict"].endswith(" 5)")  # T&R's 5-point CA budget
    records = [json.loads(p.read_text()) for p in (out / "cells").glob("*/results.json")]
    assert {r["poisoning"]["holdout"] for r in records} == {0.2}
    assert {r["poisoning"]["selection"] for r in records} == {"first-non-target"}
    assert "T&R Tables 1, 2, 4 and 5" in capsys.readouterr().out


def test_paper_presets_list_pending_attacks(reproduce) -> None:
    paper = reproduce.PRESETS["paper"]
    rows = build_rows(reproduce.REPRODUCTION, paper, {})
    assert "LCBA (lcba)" in {row.attack for row in rows}
    assert len(rows) == 10 * 3 * 3  # Table 1 rows x defenses x {ASR, CA, CA_nontarget}
    gtsrb = reproduce.PRESETS["paper-gtsrb"]
    assert gtsrb.target == 1 and gtsrb.dataset == "gtsrb"
    cell = make_cell(reproduce.REPRODUCTION, paper, paper.attacks[0], "T&R")
    assert cell.config["holdout"] == 0.05 and cell.config["config"]["trap_epochs"] == 200


def test_table4_runs_the_ablations_as_columns(reproduce) -> None:
    table4 = reproduce.PRESETS["table4"]
    rows = build_rows(reproduce.REPRODUCTION, table4, {})
    paper = {(r.attack, r.defense, r.metric): r.paper for r in rows}
    assert paper[("Trojan-WM (trojan-wm)", "T&R w/o aux reconstruction", "ASR")] == 51.87
    assert paper[("l2-Invisible (l2-invisible)", "T&R w/o aux reconstruction", "CA")] == 85.08
    without = make_cell(
        reproduce.REPRODUCTION, table4, table4.attacks[0], "T&R w/o aux reconstruction"
    )
    kept = make_cell(reproduce.REPRODUCTION, table4, table4.attacks[0], "T&R w/o head replacement")
    assert without.config["config"]["reconstruct"] is False
    assert without.config["config"]["replace_head"] is True
    assert kept.config["config"]["replace_head"] is False


def test_table5_moves_the_stem_head_split_per_column(reproduce) -> None:
    table5 = reproduce.PRESETS["table5"]
    rows = build_rows(reproduce.REPRODUCTION, table5, {})
    paper = {(r.attack, r.defense, r.metric): r.paper for r in rows}
    assert paper[("Blend (blend-kitty)", "T&R 1-layer head", "ASR")] == 97.41
    assert paper[("Smooth (smooth)", "T&R 5-layer head", "CA")] == 73.96
    assert paper[("Blend (blend-kitty)", "T&R", "ASR")] == 10.59  # the default split: Table 1
    splits = {
        defense: make_cell(reproduce.REPRODUCTION, table5, table5.attacks[0], defense).config[
            "config"
        ]["stem_end_block"]
        for defense in ("T&R 1-layer head", "T&R", "T&R 5-layer head")
    }
    assert splits == {"T&R 1-layer head": 6, "T&R": 5, "T&R 5-layer head": 4}
