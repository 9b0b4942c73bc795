"""The command line of every ``reproduce-*`` script: run a preset's cells, print paper vs ours.

A script describes its paper once, as a ``Reproduction`` (the paper's table, its poisoning rules,
its defense columns: each a registered defense, ``unpoison.defenses``), and its presets
(``unpoison.reproduction.Preset``); ``main`` does the rest: it checks the inputs before any
training, runs or reads back every (attack row, defense) cell, prints the table with a verdict
per number, writes ``<out>/table.json`` and regenerates the preset's section of the script's
RESULTS.md.
"""

from __future__ import annotations

import argparse
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from unpoison import attacks, data
from unpoison.attacks.paper_presets import PaperPoisoning
from unpoison.defenses import MODEL, Defense, registry
from unpoison.models.precision import add_precision_argument, resolve_precision
from unpoison.report import (
    NOT_IMPLEMENTED,
    Row,
    format_markdown,
    format_text,
    hardware_summary,
    read_paper_values,
    write_table_json,
)
from unpoison.reproduction.cells import Cell, run_cells
from unpoison.reproduction.presets import Column, Preset
from unpoison.reproduction.rows import AttackRow, select_rows
from unpoison.reproduction.verdicts import MAX_CA_DROP, numeric_verdict, qualitative_verdict
from unpoison.runner import DefenseRun, Poisoning
from unpoison.train import resolve_device

BASELINE = "No defense"
TIME_METRIC = "time +%"  # a defense's training time over No defense's on the same data, minus 1
PAPER_TIME_METRIC = "train_time_increase_pct"  # its name in the paper-table CSVs
TIME_TOLERANCE = 5.0  # points of percent; our choice
MetricKey = str | Callable[[AttackRow], str]
PRECISION_NOTES = {
    "fp32": "Backbones in fp32.",
    "bf16": "Backbones in bf16 autocast (heads, losses and optimizer state in fp32).",
}


@dataclass(frozen=True)
class Reproduction:
    """What one paper's reproduction is: its table, its poisoning rules, its defense columns."""

    folder: Path  # reproductions/<paper>: paper_tables.csv (the paper's numbers) and RESULTS.md
    title: str  # e.g. "CBD Tables 1-3": heads the printed table and RESULTS.md
    description: str  # the script's --help
    poisoning: PaperPoisoning  # the paper's selection rule per label rule and its holdout
    paper_datasets: Mapping[str, str]  # our dataset -> the paper's column (digits stands in)
    # printed metric -> its results.json key, or a function of the row giving it (a paper whose
    # CA definition depends on the attack); only ASR and CA are compared with the paper
    metrics: Mapping[str, MetricKey]
    columns: Mapping[str, Column]  # every trained column of the paper's tables, by name
    describe: Callable[[Preset], str]  # the preset's settings, as RESULTS.md states them
    paper_defense: Callable[[str], str] = lambda defense: defense  # our column -> the paper's
    time_overhead: bool = False  # add each defense's "time +%" over No defense
    max_ca_drop: float = MAX_CA_DROP  # the mini presets' clean-accuracy budget, in points
    baseline: str = BASELINE  # the undefended column the others are compared with
    # columns read from another column's run instead of trained: column -> (source column,
    # metrics group), e.g. D-BR's model before purification is the "Backdoored" column
    derived_columns: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """e.g. "trap-replace" for reproductions/trap_replace: output in
        runs/reproduce-trap-replace/<preset>, run by ``nox -s reproduce-trap-replace``."""
        return self.folder.name.replace("_", "-")

    @property
    def paper_table(self) -> Path:
        """Every number of the paper's tables: CSV columns dataset, attack, defense, metric,
        value."""
        return self.folder / "paper_tables.csv"

    @property
    def results_md(self) -> Path:
        """The report the script regenerates, one section per preset."""
        return self.folder / "RESULTS.md"

    def metric_key(self, metric: str, row: AttackRow) -> str:
        """The results.json key of printed ``metric`` in ``row``."""
        key = self.metrics[metric]
        return key if isinstance(key, str) else key(row)

    def column_config(self, preset: Preset, column: str) -> tuple[Defense, Any]:
        """The registered defense of ``column`` and its config in ``preset``."""
        spec = self.columns[column]
        return registry.get(spec.defense), spec.config(preset.configs[spec.defense])

    def derived_record(self, source: Mapping[str, Any], column: str) -> dict[str, Any]:
        """The results of derived ``column`` from its source column's ``results.json``."""
        group = self.derived_columns[column][1]
        return {**source, "metrics": {MODEL: source["metrics"][group]}}

    def paper_dataset_for(self, preset: Preset) -> str:
        """The paper's column the preset is compared with: its own ``paper_dataset`` when it
        sets one (a row of another table run on digits), else by its dataset."""
        own = preset.paper_dataset
        return own or self.paper_datasets.get(preset.dataset, preset.dataset)

    def poisoning_for(self, preset: Preset) -> PaperPoisoning:
        """The paper's poisoning with the preset's holdout fraction, when it sets one (a mini
        preset may keep a larger share of a small dataset aside)."""
        if preset.holdout is None:
            return self.poisoning
        return replace(self.poisoning, holdout=preset.holdout)


def add_reproduction_arguments(
    parser: argparse.ArgumentParser, presets: Sequence[str], name: str, results_md: Path
) -> None:
    """The options every reproduce script has; ``name`` is e.g. ``"abl"``."""
    parser.add_argument(
        "--preset",
        choices=sorted(presets),
        default="mini",
        help="mini: digits on a CPU in minutes (default); paper: the paper's datasets and "
        "settings (GPU); smoke: a few steps, for tests",
    )
    parser.add_argument("--dataset", help="run the preset's settings on another dataset")
    parser.add_argument("--data-root", type=Path, help="folder holding (or receiving) the dataset")
    parser.add_argument("--download", action="store_true", help="download the dataset if absent")
    parser.add_argument("--attacks", help="comma-separated paper row names to run (default: all)")
    parser.add_argument(
        "--assets", type=Path, help="folder of trigger files (see python -m unpoison.assets)"
    )
    parser.add_argument("--seed", type=int, help="seed of poisoning and training")
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (default: auto)")
    add_precision_argument(parser, default=None, says="the preset's")
    parser.add_argument(
        "--out", type=Path, help=f"output folder (default: runs/reproduce-{name}/<preset>)"
    )
    parser.add_argument("--fresh", action="store_true", help="recompute cells that have results")
    parser.add_argument(
        "--results-md",
        type=Path,
        default=results_md,
        help=f"markdown report to regenerate (default: {results_md.name} beside the script; "
        "never written by the smoke preset)",
    )


def resolve_preset(presets: Mapping[str, Preset], args: argparse.Namespace) -> Preset:
    """The preset named by ``--preset`` with the ``--dataset``, ``--seed`` and ``--attacks``
    overrides applied."""
    preset = presets[args.preset]
    if args.dataset:
        preset = replace(preset, dataset=args.dataset)
    if args.seed is not None:
        preset = replace(preset, seed=args.seed)
    if args.attacks:
        preset = replace(preset, attacks=select_rows(preset.attacks, args.attacks))
    return preset


def make_cell(
    reproduction: Reproduction, preset: Preset, row: AttackRow, column: str, precision: str = "fp32"
) -> Cell:
    """The cell of ``row`` x ``column`` trained in ``precision`` ("fp32" or "bf16"), keyed by
    everything that determines its result."""
    config = {
        "dataset": preset.dataset,
        "attack": row.attack,
        "params": dict(row.params),
        "rate": row.rate or preset.rate,
        "target": row.target_or(preset.target),
        "seed": preset.seed,
        "holdout": reproduction.poisoning_for(preset).holdout,
        "defense": column,
        "config": asdict(reproduction.column_config(preset, column)[1]),
    }
    if precision != "fp32":  # fp32, the default, adds nothing to the key
        config["precision"] = precision
    digest = row.attack and attacks.ATTACKS.get(row.attack).input_digest(**row.params)
    if digest is not None:  # e.g. SSBA: a re-encoded cache is a new cell
        config["inputs"] = digest
    return Cell(row.paper_name, column, config)


def cell_run(
    reproduction: Reproduction,
    preset: Preset,
    row: AttackRow,
    column: str,
    device: torch.device,
    assets: Path | None,
    precision: str = "fp32",
) -> DefenseRun:
    """The run of one cell: the paper's poisoning rules for ``row``, the column's defense and
    config, its backbones in ``precision``."""
    paper = reproduction.poisoning_for(preset)
    attack = attacks.create(row.attack, assets=assets, **row.params)
    defense, config = reproduction.column_config(preset, column)
    poisoning = Poisoning(
        dataset=preset.dataset,
        attack=row.attack,
        attack_params=dict(row.params),
        rate=row.rate or preset.rate,
        target=row.target_or(preset.target),
        selection=paper.selection(attack),
        holdout=paper.holdout or None,
    )
    return DefenseRun(defense, config, poisoning, attack, preset.seed, precision, device)


def verdict(
    preset: Preset,
    defense: str,
    metric: str,
    ours: float,
    paper: float | None,
    baseline_ca: float,
    max_ca_drop: float = MAX_CA_DROP,
    baseline: str = BASELINE,
    paper_baseline_ca: float | None = None,
    baseline_asr: float | None = None,
) -> str:
    """Paper vs ours for one number: qualitative for a mini preset, numeric for the paper's."""
    if metric == TIME_METRIC:
        if preset.compare == "qualitative" or paper is None:
            return "measured (paper: GPU, full schedule)"
        return "reproduced" if abs(ours - paper) <= TIME_TOLERANCE else "differs"
    if metric not in ("ASR", "CA"):
        return "not in paper"
    if preset.compare == "qualitative":
        return qualitative_verdict(
            defense,
            metric,
            ours,
            baseline_ca,
            baseline,
            max_ca_drop=max_ca_drop,
            paper=paper,
            paper_baseline_ca=paper_baseline_ca,
            baseline_asr=baseline_asr,
        )
    return numeric_verdict(defense, metric, ours, paper, baseline)


def build_rows(
    reproduction: Reproduction, preset: Preset, results: Mapping[tuple[str, str], dict[str, Any]]
) -> list[Row]:
    """Every printed number of the table: ours, the paper's and the verdict, row by row."""
    paper = read_paper_values(reproduction.paper_table)
    paper_dataset = reproduction.paper_dataset_for(preset)
    rows = []
    for attack_row in preset.attacks:
        baseline = results.get((attack_row.paper_name, reproduction.baseline))
        paper_baseline_ca = paper.get(
            (
                paper_dataset,
                attack_row.paper_name,
                reproduction.paper_defense(reproduction.baseline),
                "CA",
            )
        )
        for defense in preset.columns:
            record = results.get((attack_row.paper_name, defense))
            done = record is not None and baseline is not None
            paper_defense = reproduction.paper_defense(defense)
            numbers = {
                metric: (
                    record["metrics"][MODEL][reproduction.metric_key(metric, attack_row)]
                    if done
                    else None,
                    metric,
                )
                for metric in reproduction.metrics
            }
            if reproduction.time_overhead and defense != reproduction.baseline:
                overhead = (
                    100 * (record["wall_seconds"] / baseline["wall_seconds"] - 1) if done else None
                )
                numbers[TIME_METRIC] = (overhead, PAPER_TIME_METRIC)
            for metric, (ours, paper_metric) in numbers.items():
                paper_value = paper.get(
                    (paper_dataset, attack_row.paper_name, paper_defense, paper_metric)
                )
                result = (
                    verdict(
                        preset,
                        defense,
                        metric,
                        ours,
                        paper_value,
                        baseline["metrics"][MODEL][reproduction.metric_key("CA", attack_row)],
                        reproduction.max_ca_drop,
                        reproduction.baseline,
                        paper_baseline_ca,
                        baseline["metrics"][MODEL][reproduction.metric_key("ASR", attack_row)],
                    )
                    if ours is not None
                    else NOT_IMPLEMENTED
                )
                label = attack_row.label
                rows.append(Row(preset.dataset, label, defense, metric, ours, paper_value, result))
    return rows


def _describe_key(key: MetricKey) -> str:
    return key if isinstance(key, str) else (key.__doc__ or key.__name__).strip()


def write_results_md(
    path: Path, title: str, preset: str, intro: Sequence[str], rows: list[Row], seconds: float
) -> None:
    """Regenerate the ``preset`` section of ``path``, keeping the other presets' sections."""
    begin, end = f"<!-- begin {preset} -->", f"<!-- end {preset} -->"
    section = "\n".join(
        [
            begin,
            f"## Preset `{preset}`",
            "",
            *intro,
            f"Hardware: {hardware_summary()}. Training time of all cells: {seconds / 60:.1f} min "
            "(each cell's results.json has its own).",
            "",
            format_markdown(rows),
            end,
        ]
    )
    text = (
        path.read_text()
        if path.exists()
        else f"# {title}\n\nRegenerated by the reproduce script beside it; do not edit by hand.\n"
    )
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main(
    reproduction: Reproduction, presets: Mapping[str, Preset], argv: Sequence[str] | None = None
) -> int:
    """Run the script: parse ``argv``, run the preset's cells, print and write the table."""
    parser = argparse.ArgumentParser(description=reproduction.description)
    add_reproduction_arguments(parser, presets, reproduction.name, reproduction.results_md)
    args = parser.parse_args(argv)
    preset = resolve_preset(presets, args)
    out = args.out or Path(f"runs/reproduce-{reproduction.name}") / preset.name
    device = resolve_device(args.device)
    precision = resolve_precision(args.precision or preset.precision, device)
    # Fail before any training on a missing dataset, trigger file or an unknown attack.
    dataset = data.load(preset.dataset, root=args.data_root, download=args.download)
    for row in preset.attacks:
        if row.attack is not None:
            attacks.create(row.attack, assets=args.assets, **row.params)

    rows_by_name = {row.paper_name: row for row in preset.attacks}
    trained = [d for d in preset.columns if d not in reproduction.derived_columns]
    for column, (source, _) in reproduction.derived_columns.items():
        if column in preset.columns and source not in trained:
            raise ValueError(f"column {column!r} is read from {source!r}: run that column too")
    cells = [
        make_cell(reproduction, preset, row, defense, precision)
        for row in preset.attacks
        if row.attack
        for defense in trained
    ]

    def run(cell: Cell, folder: Path) -> None:
        row = rows_by_name[cell.attack]
        job = cell_run(reproduction, preset, row, cell.defense, device, args.assets, precision)
        job.check(folder, resume=True)
        job.execute(
            folder,
            dataset,
            reproduction={"name": reproduction.name, "preset": preset.name, "column": cell.defense},
        )

    began = time.perf_counter()
    results, compute_seconds = run_cells(cells, out, run, fresh=args.fresh)
    seconds = time.perf_counter() - began
    for (attack, defense), record in list(results.items()):
        for column, (source, _) in reproduction.derived_columns.items():
            if defense == source and column in preset.columns:
                results[(attack, column)] = reproduction.derived_record(record, column)

    rows = build_rows(reproduction, preset, results)
    paper_dataset = reproduction.paper_dataset_for(preset)
    print()
    print(
        f"{reproduction.title} — preset {preset.name}: ours on {preset.dataset}, paper on "
        f"{paper_dataset}; CA = {_describe_key(reproduction.metrics['CA'])}; "
        f"backbones in {precision}"
    )
    print(textwrap.fill(reproduction.describe(preset), width=100))
    print(format_text(rows))
    write_table_json(rows, out / "table.json")
    print(
        f"\ntable: {out / 'table.json'}   this run: {seconds / 60:.1f} min   "
        f"training time of all cells: {compute_seconds / 60:.1f} min"
    )
    if preset.name != "smoke":
        notes = [f"{row.paper_name}: {row.note}." for row in preset.attacks if row.note]
        intro = [
            f"Dataset: {preset.dataset} (paper column: {paper_dataset}). "
            f"Poison rate {preset.rate}, target {preset.target}, seed {preset.seed}. "
            + PRECISION_NOTES[precision]
            + " "
            + reproduction.describe(preset),
            "",
            *notes,
        ]
        write_results_md(
            args.results_md,
            f"{reproduction.title}: reproduction results",
            preset.name,
            intro,
            rows,
            compute_seconds,
        )
        print(f"report: {args.results_md}")
    missed = sum(r.verdict.startswith("NOT") for r in rows)
    if missed:
        print(f"{missed} cell(s) did not reproduce the paper's qualitative result.")
    return 0
