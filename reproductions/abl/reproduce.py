"""Reproduce ABL Table 1 (No defense vs ABL, ASR and CA) and print paper vs ours per cell.

    python reproductions/abl/reproduce.py                      # mini preset: digits, CPU, minutes
    python reproductions/abl/reproduce.py --preset paper --data-root ~/data --download   # GPU

Each (attack, defense) cell is a job keyed by the hash of its resolved config. Its TensorBoard
logs, checkpoints and results.json live in ``<out>/cells/<key>/``; a cell whose results exist is
not recomputed, and a killed cell resumes from its last checkpoint. The table is written to
``<out>/table.json`` and this folder's RESULTS.md is regenerated.

Paper numbers: ABL Table 1, CIFAR-10 rows (paper_cifar10.csv beside this file). ABL reports CA on
non-target test images, so "CA" here is CA_nontarget (both CAs are in each cell's results.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import abl
import torch
from presets import PRESETS, AttackRow, Preset
from unpoison import attacks, data
from unpoison.report import NOT_IMPLEMENTED, Row, format_text, read_paper_values, write_table_json
from unpoison.reproduction import (
    Cell,
    add_reproduction_arguments,
    method_defense,
    no_defense,
    numeric_verdict,
    qualitative_verdict,
    run_cells,
    run_defense_cell,
    select_rows,
    write_results_md,
)
from unpoison.train import resolve_device

HERE = Path(__file__).resolve().parent
PAPER_TABLE = HERE / "paper_cifar10.csv"
PAPER_DATASET = "CIFAR-10"
DEFENSES = ("No defense", "ABL")
# ABL's CA is measured on non-target images; CA_all (not in the paper) shows what unlearning
# costs the target class itself.
METRICS = {"ASR": "asr", "CA": "ca_nontarget", "CA_all": "ca_all"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Reproduce ABL Table 1: attack x {No defense, ABL} x {ASR, CA}, "
        "printed beside the paper's CIFAR-10 numbers with a verdict per cell.",
    )
    add_reproduction_arguments(parser, PRESETS, "abl", HERE / "RESULTS.md")
    return parser.parse_args(argv)


def resolve_preset(args: argparse.Namespace) -> Preset:
    preset = PRESETS[args.preset]
    if args.dataset:
        preset = replace(preset, dataset=args.dataset)
    if args.seed is not None:
        preset = replace(preset, seed=args.seed)
    if args.attacks:
        preset = replace(preset, attacks=select_rows(preset.attacks, args.attacks))
    return preset


def make_cell(preset: Preset, row: AttackRow, defense: str) -> Cell:
    """The cell of ``row`` x ``defense``, keyed by everything that determines its result."""
    config = {
        "dataset": preset.dataset,
        "attack": row.attack,
        "params": dict(row.params),
        "selection": row.selection,
        "rate": row.rate or preset.rate,
        "target": preset.target,
        "seed": preset.seed,
        "defense": defense,
        "config": asdict(preset.abl if defense == "ABL" else preset.no_defense),
    }
    return Cell(row.paper_name, defense, config)


def run_cell(
    preset: Preset,
    row: AttackRow,
    cell: Cell,
    dataset: data.ImageDataset,
    folder: Path,
    device: torch.device,
    assets: Path | None,
) -> None:
    """Poison, train one defense and write the cell's results.json."""
    defense_config = preset.abl if cell.defense == "ABL" else preset.no_defense
    train = (
        method_defense(abl.run, preset.abl)
        if cell.defense == "ABL"
        else no_defense(preset.no_defense)
    )
    run_defense_cell(
        folder,
        dataset=dataset,
        attack=attacks.create(row.attack, assets=assets, **row.params),
        rate=row.rate or preset.rate,
        selection=row.selection,
        target=preset.target,
        seed=preset.seed,
        device=device,
        defense=cell.defense,
        train=train,
        record={
            "preset": preset.name,
            "dataset": preset.dataset,
            "defense_config": asdict(defense_config),
        },
        packages=("unpoison-abl",),
    )


def verdict(
    preset: Preset,
    defense: str,
    metric: str,
    ours: float,
    paper: float | None,
    no_defense_ca: float | None,
) -> str:
    """Paper vs ours for one number: qualitative for the mini preset, numeric for the paper's."""
    if metric == "CA_all":
        return "not in paper"
    if preset.compare == "qualitative":
        return qualitative_verdict(defense, metric, ours, no_defense_ca)
    return numeric_verdict(defense, metric, ours, paper)


def build_rows(preset: Preset, results: dict[tuple[str, str], dict[str, Any]]) -> list[Row]:
    paper = read_paper_values(PAPER_TABLE)
    rows = []
    for attack_row in preset.attacks:
        name = (
            attack_row.paper_name
            if attack_row.attack is None
            else f"{attack_row.paper_name} ({attack_row.attack})"
        )
        for defense in DEFENSES:
            record = results.get((attack_row.paper_name, defense))
            for metric, key in METRICS.items():
                paper_value = paper.get((PAPER_DATASET, attack_row.paper_name, defense, metric))
                if record is None:
                    ours, result = None, NOT_IMPLEMENTED
                else:
                    baseline = results[(attack_row.paper_name, "No defense")]["metrics"]
                    ours = record["metrics"][key]
                    result = verdict(
                        preset, defense, metric, ours, paper_value, baseline[METRICS["CA"]]
                    )
                rows.append(Row(preset.dataset, name, defense, metric, ours, paper_value, result))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    preset = resolve_preset(args)
    out = args.out or Path("runs/reproduce-abl") / preset.name
    device = resolve_device(args.device)
    # Fail before any training on a missing dataset, trigger file or an unknown attack.
    dataset = data.load(preset.dataset, root=args.data_root, download=args.download)
    for row in preset.attacks:
        if row.attack is not None:
            attacks.create(row.attack, assets=args.assets, **row.params)

    rows_by_name = {row.paper_name: row for row in preset.attacks}
    cells = [
        make_cell(preset, row, defense)
        for row in preset.attacks
        if row.attack
        for defense in DEFENSES
    ]

    def run(cell: Cell, folder: Path) -> None:
        run_cell(preset, rows_by_name[cell.attack], cell, dataset, folder, device, args.assets)

    began = time.perf_counter()
    results, compute_seconds = run_cells(cells, out, run, fresh=args.fresh)
    seconds = time.perf_counter() - began

    rows = build_rows(preset, results)
    print()
    print(
        f"ABL Table 1 — preset {preset.name}: ours on {preset.dataset}, "
        f"paper on {PAPER_DATASET}; CA = CA_nontarget"
    )
    print(format_text(rows))
    write_table_json(rows, out / "table.json")
    print(
        f"\ntable: {out / 'table.json'}   this run: {seconds / 60:.1f} min   "
        f"training time of all cells: {compute_seconds / 60:.1f} min"
    )
    if preset.name != "smoke":
        intro = [
            f"Dataset: {preset.dataset} (paper column: {PAPER_DATASET}). "
            f"Poison rate {preset.rate}, target {preset.target}, seed {preset.seed}. "
            "CA is CA_nontarget, as ABL reports it."
        ]
        write_results_md(
            args.results_md, "ABL reproduction results", preset.name, intro, rows, compute_seconds
        )
        print(f"report: {args.results_md}")
    missed = sum(r.verdict.startswith("NOT") for r in rows)
    if missed:
        print(f"{missed} cell(s) did not reproduce the paper's qualitative result.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (FileNotFoundError, ValueError) as error:  # bad input: the message says what to do
        sys.exit(f"error: {error}")
