"""The CBD reproduction on its smoke preset: cells, caching, table.json, the time overhead."""

import json

import pytest
from reproduce_script import reproduce_script
from unpoison.models.precision import resolve_precision
from unpoison.reproduction import build_rows, make_cell


@pytest.fixture(scope="module")
def reproduce():
    with reproduce_script("cbd") as module:
        yield module


def test_smoke_preset_writes_the_table_with_the_time_overhead(reproduce, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--preset", "smoke", "--out", str(out), "--device", "cpu"]
    assert reproduce.main(args) == 0
    rows = json.loads((out / "table.json").read_text())
    cells = {(row["defense"], row["metric"]): row for row in rows}
    metrics = ("ASR", "CA", "CA_nontarget")
    assert set(cells) == {(d, m) for d in ("No defense", "CBD") for m in metrics} | {
        ("CBD", "time +%")
    }
    # CBD's CIFAR-10 BadNets numbers sit beside ours; CA is CA_all.
    assert cells[("CBD", "ASR")]["paper"] == 1.06
    assert cells[("CBD", "CA")]["paper"] == 87.46
    assert cells[("CBD", "time +%")]["paper"] == 14.3
    records = [json.loads(p.read_text()) for p in (out / "cells").glob("*/results.json")]
    seconds = {r["reproduction"]["column"]: r["wall_seconds"] for r in records}
    overhead = 100 * (seconds["CBD"] / seconds["No defense"] - 1)
    assert cells[("CBD", "time +%")]["ours"] == pytest.approx(overhead)
    assert {r["metrics"]["model"]["ca_all"] for r in records} == {
        cells[(d, "CA")]["ours"] for d in ("No defense", "CBD")
    }
    # CBD's presets train in bf16 where the CPU computes it natively, and say so per cell.
    assert {r["precision"] for r in records} == {resolve_precision("auto", "cpu")}
    assert "CBD Tables 1-3" in capsys.readouterr().out
    assert reproduce.main(args) == 0
    assert capsys.readouterr().out.count("cached") == 2


def test_paper_presets_list_pending_attacks_and_both_cbd_variants(reproduce) -> None:
    rows = build_rows(reproduce.REPRODUCTION, reproduce.PRESETS["paper"], {})
    # Every row names our attack ("<paper name> (<our attack>)"): Dynamic and WaNet run too.
    assert all("(" in row.attack for row in rows)
    assert {row.defense for row in rows} == {"No defense", "ABL", "CBD", "CBD + MI"}
    # Table 1 rows x (4 defenses x {ASR, CA, CA_nontarget} + each defense's time +%)
    assert len(rows) == 6 * (4 * 3 + 3)
    rates = reproduce.PRESETS["paper-rates"]
    assert [row.paper_name for row in rates.attacks][:4] == [
        "BadNets @ 1%",
        "BadNets @ 5%",
        "BadNets @ 20%",
        "BadNets @ 50%",
    ]
    cell = make_cell(reproduce.REPRODUCTION, rates, rates.attacks[1], "CBD + MI")
    assert cell.config["rate"] == 0.05 and cell.config["config"]["disentangle"] is True
    # The precision is part of a cell's key; fp32, the default, adds nothing to it.
    bf16 = make_cell(reproduce.REPRODUCTION, rates, rates.attacks[1], "CBD + MI", "bf16")
    assert "precision" not in cell.config and bf16.config["precision"] == "bf16"
    assert bf16.key != cell.key
