"""report: table rows, their text/markdown renderings, table.json and the paper-values CSV."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch
from unpoison.models.precision import native_bf16
from unpoison.report import (
    NOT_IMPLEMENTED,
    Row,
    cpu_model,
    format_markdown,
    format_text,
    hardware_summary,
    read_paper_values,
    write_table_json,
)

ROWS = [
    Row("cifar10", "badnets", "abl", "asr", ours=3.4567, paper=3.04, verdict="ok"),
    Row("cifar10", "blend", "abl", "ca_all", ours=None, paper=88.1, verdict=NOT_IMPLEMENTED),
    Row("gtsrb", "sig", "none", "asr", ours=100.0, paper=None, verdict="no paper value"),
]


def test_format_text_aligns_columns_with_two_decimals_and_dashes() -> None:
    assert format_text(ROWS).splitlines() == [
        "dataset  attack   defense  metric  paper  ours    verdict",
        "-------  -------  -------  ------  -----  ------  ---------------",
        "cifar10  badnets  abl      asr     3.04   3.46    ok",
        "cifar10  blend    abl      ca_all  88.10  -       not implemented",
        "gtsrb    sig      none     asr     -      100.00  no paper value",
    ]


def test_format_text_without_rows_is_the_header() -> None:
    assert format_text([]) == (
        "dataset  attack  defense  metric  paper  ours  verdict\n"
        "-------  ------  -------  ------  -----  ----  -------"
    )


def test_format_markdown() -> None:
    assert format_markdown(ROWS).splitlines() == [
        "| dataset | attack | defense | metric | paper | ours | verdict |",
        "|---|---|---|---|---:|---:|---|",
        "| cifar10 | badnets | abl | asr | 3.04 | 3.46 | ok |",
        "| cifar10 | blend | abl | ca_all | 88.10 | - | not implemented |",
        "| gtsrb | sig | none | asr | - | 100.00 | no paper value |",
    ]


def test_two_decimal_rounding() -> None:
    rows = [Row("d", "a", "x", "m", ours=-1.234, paper=0.004, verdict="")]
    assert format_markdown(rows).splitlines()[2] == "| d | a | x | m | 0.00 | -1.23 |  |"


def test_write_table_json(tmp_path) -> None:
    path = tmp_path / "out" / "table.json"
    write_table_json(ROWS, path)
    assert [p.name for p in path.parent.iterdir()] == ["table.json"]
    table = json.loads(path.read_text())
    assert isinstance(table, list) and len(table) == 3
    keys = {"dataset", "attack", "defense", "metric", "ours", "paper", "verdict"}
    assert all(set(row) == keys for row in table)
    assert table[0] == {
        "dataset": "cifar10",
        "attack": "badnets",
        "defense": "abl",
        "metric": "asr",
        "ours": 3.4567,
        "paper": 3.04,
        "verdict": "ok",
    }
    assert table[1]["ours"] is None and table[1]["verdict"] == "not implemented"
    assert table[2]["paper"] is None and table[2]["ours"] == 100.0
    assert [Row(**row) for row in table] == ROWS


def test_read_paper_values(tmp_path) -> None:
    path = tmp_path / "paper.csv"
    path.write_text(
        "dataset,attack,defense,metric,value,note\n"
        "cifar10,badnets,none,asr,100,Table 1\n"
        "cifar10,badnets,abl,asr,3.04,\n"
        "gtsrb,blend,abl,ca_nontarget,93.08,from the text\n"
    )
    assert read_paper_values(path) == {
        ("cifar10", "badnets", "none", "asr"): 100.0,
        ("cifar10", "badnets", "abl", "asr"): 3.04,
        ("gtsrb", "blend", "abl", "ca_nontarget"): 93.08,
    }


def test_hardware_summary_names_threads_and_versions() -> None:
    summary = hardware_summary()
    assert f"{torch.get_num_threads()} torch threads" in summary
    assert f"torch {torch.__version__}" in summary
    assert f"Python {platform.python_version()}" in summary
    assert summary.endswith(platform.system())
    # bf16 runs are only fast where the hardware has it, so the line says which it is
    assert ("with native bf16" in summary) == native_bf16(
        "cuda" if torch.cuda.is_available() else "cpu"
    )


def test_cpu_model_reads_the_model_name_line(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14\n")
    assert cpu_model(cpuinfo) == "AMD EPYC 9R14"
    assert cpu_model(tmp_path / "missing") == (platform.processor() or platform.machine())
