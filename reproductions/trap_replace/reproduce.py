"""Reproduce T&R Tables 1, 2, 4 and 5 (No defense, ABL, T&R and its ablations; ASR, CA) beside
the paper's numbers.

    python reproductions/trap_replace/reproduce.py                   # mini preset: digits, CPU
    python reproductions/trap_replace/reproduce.py --preset paper --data-root ~/data --download
    python reproductions/trap_replace/reproduce.py --preset paper-gtsrb --data-root ~/data
    python reproductions/trap_replace/reproduce.py --preset table4 --data-root ~/data  # ablation
    python reproductions/trap_replace/reproduce.py --preset table5 --data-root ~/data  # split

Each (attack, defense) cell is a job keyed by the hash of its resolved config; its TensorBoard
logs, checkpoints and results.json live in ``<out>/cells/<key>/``, finished cells are read back
and killed ones resume. The table goes to ``<out>/table.json`` and this folder's RESULTS.md is
regenerated.

Paper numbers (paper_tables.csv beside this file, from T&R's Tables 1, 2, 4 and 5): T&R reports CA
on the whole clean test set, so "CA" here is CA_all; CA_nontarget is shown too. Every column trains
on the poisoned training set without the defender's clean holdout (its last 5%; 20% in the mini
preset); only T&R uses the holdout, to train its new head.
"""

from __future__ import annotations

from pathlib import Path

from presets import CHANGED_COLUMNS, PRESETS
from unpoison.attacks.paper_presets import TRAP_REPLACE as TR_POISONING
from unpoison.defenses.cli import exit_on_bad_input
from unpoison.reproduction import Column, Reproduction
from unpoison.reproduction import main as reproduce

REPRODUCTION = Reproduction(
    folder=Path(__file__).resolve().parent,
    title="T&R Tables 1, 2, 4 and 5",
    description=__doc__.split("\n\n")[0],  # the first paragraph above
    poisoning=TR_POISONING,
    # digits stands in for CIFAR-10 in the mini preset
    paper_datasets={"digits": "CIFAR-10", "cifar10": "CIFAR-10", "gtsrb": "GTSRB"},
    # T&R's CA is measured on the whole test set; CA_nontarget (not in the paper) beside it.
    metrics={"ASR": "asr", "CA": "ca_all", "CA_nontarget": "ca_nontarget"},
    columns={
        "No defense": Column("none"),
        "ABL": Column("abl"),
        "T&R": Column("trap-replace"),
        **{name: Column("trap-replace", changes) for name, changes in CHANGED_COLUMNS.items()},
    },
    describe=lambda preset: (
        "T&R's rule: the first non-target images in index order, 10% of the whole training set, "
        "none of them in the clean holdout "
        f"({TR_POISONING.holdout if preset.holdout is None else preset.holdout:.0%} of the "
        "training set, used only by T&R). CA is CA_all, as T&R reports it."
    ),
    max_ca_drop=5.0,  # T&R's own budget: its CIFAR-10 CA is 4-5 points under No defense's
)


def main(argv: list[str] | None = None) -> int:
    return reproduce(REPRODUCTION, PRESETS, argv)


if __name__ == "__main__":
    exit_on_bad_input(main)
