"""Reproduction machinery: content-addressed cells, caching, verdicts, RESULTS.md sections."""

import json
from collections import namedtuple
from pathlib import Path

import pytest
from unpoison.report import Row
from unpoison.reproduction import (
    Cell,
    numeric_verdict,
    qualitative_verdict,
    run_cells,
    select_rows,
    write_results_md,
)


def test_cell_key_is_readable_and_changes_with_any_setting() -> None:
    cell = Cell("Blend-Strip", "No defense", {"epochs": 6, "rate": 0.1})
    assert cell.key.startswith("blend-strip-no-defense-") and len(cell.key.split("-")[-1]) == 12
    assert Cell("Blend-Strip", "No defense", {"rate": 0.1, "epochs": 6}).key == cell.key
    assert Cell("Blend-Strip", "No defense", {"epochs": 7, "rate": 0.1}).key != cell.key


def test_run_cells_trains_each_cell_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    trained = []

    def run(cell: Cell, folder: Path) -> None:
        trained.append(cell.defense)
        metrics = {"model": {"asr": 1.0, "ca_all": 2.0, "ca_nontarget": 3.0}}
        record = {"schema_version": 2, "metrics": metrics, "wall_seconds": 5}
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "checkpoints" / "fingerprint.json").write_text("{}")
        (folder / "results.json").write_text(json.dumps(record))

    cells = [Cell("BadNets", defense, {}) for defense in ("No defense", "CBD")]
    records, seconds = run_cells(cells, tmp_path, run)
    assert trained == ["No defense", "CBD"] and seconds == 10
    assert records[("BadNets", "CBD")]["metrics"]["model"]["asr"] == 1.0
    records_again, _ = run_cells(cells, tmp_path, run)
    assert trained == ["No defense", "CBD"] and records_again == records
    assert capsys.readouterr().out.count("cached") == 2
    run_cells(cells[:1], tmp_path, run, fresh=True)
    assert trained == ["No defense", "CBD", "No defense"]


def test_a_cell_of_an_older_schema_is_recomputed(tmp_path: Path) -> None:
    trained = []

    def run(cell: Cell, folder: Path) -> None:
        trained.append(cell.defense)
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "checkpoints" / "fingerprint.json").write_text("{}")
        metrics = {"model": {"asr": 1.0, "ca_all": 2.0, "ca_nontarget": 3.0}}
        record = {"schema_version": 2, "metrics": metrics, "wall_seconds": 5}
        (folder / "results.json").write_text(json.dumps(record))

    cell = Cell("BadNets", "CBD", {})
    old = tmp_path / "cells" / cell.key
    (old / "checkpoints").mkdir(parents=True)
    (old / "checkpoints" / "latest.json").write_text("{}")  # no fingerprint: made before them
    flat = {"metrics": {"asr": 9.0, "ca_all": 9.0, "ca_nontarget": 9.0}, "wall_seconds": 1}
    (old / "results.json").write_text(json.dumps(flat))
    records, _ = run_cells([cell], tmp_path, run)
    assert trained == ["CBD"]
    assert records[("BadNets", "CBD")]["metrics"]["model"]["asr"] == 1.0
    assert not (old / "checkpoints" / "latest.json").exists()


def test_qualitative_verdicts_follow_the_bounds() -> None:
    assert qualitative_verdict("No defense", "ASR", 95.0, None).startswith("reproduced")
    assert qualitative_verdict("No defense", "ASR", 89.0, None).startswith("NOT")
    assert qualitative_verdict("CBD", "ASR", 10.0, None).startswith("reproduced")
    assert qualitative_verdict("CBD", "ASR", 10.5, None).startswith("NOT")
    assert qualitative_verdict("No defense", "CA", 99.0, 99.0) == "reference"
    assert qualitative_verdict("CBD", "CA", 96.0, 99.0) == "reproduced (drop 3.0 <= 3)"
    assert qualitative_verdict("CBD", "CA", 95.9, 99.0) == "NOT reproduced (drop 3.1 > 3)"


def test_a_defense_asr_is_untested_where_the_baseline_was_not_backdoored() -> None:
    assert qualitative_verdict("T&R", "ASR", 0.3, None, baseline_asr=7.17) == (
        "untested (No defense's ASR 7.17 < 50)"
    )
    assert (
        qualitative_verdict("D-ST", "ASR", 0.3, None, baseline="Backdoored", baseline_asr=49.99)
        == "untested (Backdoored's ASR 49.99 < 50)"
    )
    # a baseline backdoored below the attack's own bar still tests the defense
    assert qualitative_verdict("D-ST", "ASR", 31.1, None, baseline_asr=89.44).startswith("NOT")
    assert qualitative_verdict("T&R", "ASR", 0.3, None, baseline_asr=50.0).startswith("reproduced")
    # the baseline's own ASR and every CA keep their verdicts
    assert qualitative_verdict("No defense", "ASR", 7.17, None, baseline_asr=7.17).startswith(
        "NOT reproduced"
    )
    assert qualitative_verdict("T&R", "CA", 99.0, 99.0, baseline_asr=7.17).startswith("reproduced")


def test_a_defense_the_paper_shows_failing_is_expected_to_leave_the_backdoor() -> None:
    # T&R Table 4, "w/o head replacement" on Trojan-WM: paper ASR 99.81
    assert qualitative_verdict("T&R w/o head", "ASR", 10.5, None, paper=99.81).startswith(
        "reproduced"
    )
    assert qualitative_verdict("T&R w/o head", "ASR", 10.0, None, paper=99.81).startswith("NOT")
    # a paper value under the bar keeps the usual claim (T&R's Trojan-WM: 12.66)
    assert qualitative_verdict("T&R", "ASR", 10.5, None, paper=12.66).startswith("NOT")
    assert qualitative_verdict("T&R", "ASR", 0.3, None, paper=12.66).startswith("reproduced")


def test_a_clean_accuracy_drop_the_paper_shows_sets_the_budget() -> None:
    # T&R Table 5, the 5-layer head on Blend: the paper's CA 74.99 under No defense's 88.95
    verdict = qualitative_verdict(
        "T&R 5-layer head", "CA", 93.9, 99.4, max_ca_drop=5.0, paper=74.99, paper_baseline_ca=88.95
    )
    assert verdict == "reproduced (drop 5.5 <= 14.0, the paper's)"
    assert qualitative_verdict(
        "T&R 5-layer head", "CA", 85.0, 99.4, max_ca_drop=5.0, paper=74.99, paper_baseline_ca=88.95
    ).startswith("NOT reproduced (drop 14.4 > 14.0")
    # a paper drop within the budget leaves the budget as it is
    assert (
        qualitative_verdict(
            "T&R", "CA", 94.0, 99.4, max_ca_drop=5.0, paper=84.42, paper_baseline_ca=88.36
        )
        == "NOT reproduced (drop 5.4 > 5)"
    )


def test_numeric_verdicts() -> None:
    assert numeric_verdict("CBD", "ASR", 4.0, 1.06) == "reproduced"
    assert numeric_verdict("CBD", "ASR", 0.5, 16.0) == "better than paper"
    assert numeric_verdict("No defense", "ASR", 70.0, 100.0) == "differs"
    assert numeric_verdict("CBD", "CA", 90.0, 87.46) == "better than paper"
    assert numeric_verdict("CBD", "CA", 80.0, None) == "no paper value"


def test_select_rows_keeps_the_asked_order_and_rejects_unknown_names() -> None:
    AttackRow = namedtuple("AttackRow", "paper_name")
    rows = (AttackRow("BadNets"), AttackRow("Blend"), AttackRow("SIG"))
    assert select_rows(rows, "SIG, BadNets") == (rows[2], rows[0])
    assert select_rows(rows, None) == rows
    with pytest.raises(ValueError, match=r"unknown attack rows \['WaNet'\]"):
        select_rows(rows, "WaNet")


def test_results_md_regenerates_one_preset_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    row = Row("digits", "BadNets", "CBD", "ASR", 1.0, 1.06, "reproduced (<= 10)")
    write_results_md(path, "CBD results", "mini", ["intro mini"], [row], 60.0)
    write_results_md(path, "CBD results", "paper", ["intro paper"], [row], 120.0)
    write_results_md(path, "CBD results", "mini", ["intro mini, again"], [row], 30.0)
    text = path.read_text()
    assert text.startswith("# CBD results")
    assert text.count("<!-- begin mini -->") == 1 and "intro mini, again" in text
    assert "intro paper" in text and "intro mini\n" not in text
    assert "Training time of all cells: 0.5 min" in text
