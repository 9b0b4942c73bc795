"""The D-ST / D-BR reproduction on its smoke preset: the derived Backdoored column, the paper's CA
definition per row, pending rows."""

import json
from dataclasses import replace

import pytest
from reproduce_script import reproduce_script
from ssba_caches import inverted_ssba
from trigger_images import random_images
from unpoison.reproduction import AttackRow, build_rows, make_cell


@pytest.fixture(scope="module")
def reproduce():
    with reproduce_script("dst_dbr") as module:
        yield module


def test_smoke_preset_reads_the_backdoored_column_from_d_br(reproduce, tmp_path, capsys):
    out = tmp_path / "out"
    assert reproduce.main(["--preset", "smoke", "--out", str(out), "--device", "cpu"]) == 0
    rows = json.loads((out / "table.json").read_text())
    cells = {(row["defense"], row["metric"]): row for row in rows}
    metrics = ("ASR", "CA", "CA_all", "CA_nontarget")
    assert set(cells) == {(d, m) for d in ("Backdoored", "D-BR", "D-ST") for m in metrics}
    # Two trained cells; the Backdoored column is D-BR's model before purification.
    records = [json.loads(p.read_text()) for p in (out / "cells").glob("*/results.json")]
    assert sorted(r["reproduction"]["column"] for r in records) == ["D-BR", "D-ST"]
    dbr = next(r for r in records if r["reproduction"]["column"] == "D-BR")
    assert cells[("Backdoored", "ASR")]["ours"] == dbr["metrics"]["backdoored"]["asr"]
    assert cells[("Backdoored", "CA")]["ours"] == dbr["metrics"]["backdoored"]["ca_nontarget"]
    assert cells[("D-BR", "CA")]["ours"] == dbr["metrics"]["model"]["ca_nontarget"]
    assert cells[("D-BR", "ASR")]["paper"] == 0.40 and cells[("D-ST", "CA")]["paper"] == 92.77
    assert cells[("D-BR", "CA")]["verdict"].endswith(" 5)")  # the 5-point CA budget
    assert {r["poisoning"]["selection"] for r in records} == {"non-target"}
    assert "D-ST / D-BR README tables" in capsys.readouterr().out


def test_all_to_all_rows_compare_ca_on_every_test_image(reproduce) -> None:
    mini = reproduce.PRESETS["mini"]
    results = {
        (row.paper_name, "D-BR"): {
            "metrics": {
                "model": {"asr": 1.0, "ca_all": 90.0, "ca_nontarget": 80.0},
                "backdoored": {"asr": 99.0, "ca_all": 91.0, "ca_nontarget": 81.0},
            },
        }
        for row in mini.attacks
    }
    for key, record in list(results.items()):
        results[(key[0], "Backdoored")] = reproduce.REPRODUCTION.derived_record(
            record, "Backdoored"
        )
    rows = build_rows(reproduce.REPRODUCTION, mini, results)
    ca = {(r.attack.split(" ")[0], r.defense): r.ours for r in rows if r.metric == "CA"}
    assert ca[("BadNets-all2all", "D-BR")] == 90.0  # CA_all
    assert ca[("BadNets-all2one", "D-BR")] == 80.0  # CA_nontarget
    assert ca[("BadNets-all2all", "Backdoored")] == 91.0


def test_paper_presets_list_pending_attacks(reproduce) -> None:
    paper = reproduce.PRESETS["paper"]
    rows = build_rows(reproduce.REPRODUCTION, paper, {})
    # Every row is implemented; with nothing run yet, none has a number.
    assert {row.attack for row in rows if row.verdict == "not implemented"} == {
        row.label for row in paper.attacks
    }
    assert len(rows) == 7 * 3 * 4  # README rows x columns x {ASR, CA, CA_all, CA_nontarget}
    cell = make_cell(reproduce.REPRODUCTION, paper, paper.attacks[0], "D-ST")
    assert cell.config["config"]["st"]["extractor_epochs"] == 200
    cifar100 = reproduce.PRESETS["paper-cifar100"]
    assert (
        cifar100.configs["d-br"].sd.model == "resnet18-cifar100" and cifar100.dataset == "cifar100"
    )


def test_the_ssba_preset_is_compared_with_the_imagenet_subset_table(reproduce) -> None:
    preset = reproduce.PRESETS["mini-ssba"]
    assert [row.attack for row in preset.attacks] == ["ssba"]
    assert dict(preset.attacks[0].params) == {
        "cache": "runs/ssba/mini/poison.safetensors",
        "encoder": "runs/ssba/mini/encoder",
    }
    rows = build_rows(reproduce.REPRODUCTION, preset, {})
    paper = {(row.defense, row.metric): row.paper for row in rows}
    assert paper[("Backdoored", "ASR")] == 99.64 and paper[("D-BR", "ASR")] == 0.09
    assert paper[("D-BR", "CA")] == 83.77 and paper[("D-ST", "ASR")] is None


def test_an_ssba_cell_changes_with_its_cache(reproduce, tmp_path) -> None:
    inverted_ssba(random_images(2), tmp_path)
    params = {"cache": str(tmp_path / "cache.safetensors"), "encoder": str(tmp_path / "encoder")}
    preset = replace(reproduce.PRESETS["mini-ssba"], attacks=(AttackRow("SSBA", "ssba", params),))
    before = make_cell(reproduce.REPRODUCTION, preset, preset.attacks[0], "D-BR").key
    inverted_ssba(random_images(2), tmp_path, encoder_bytes=b"retrained encoder")
    assert make_cell(reproduce.REPRODUCTION, preset, preset.attacks[0], "D-BR").key != before
