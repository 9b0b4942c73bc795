"""Command line: poison a dataset with one attack, defend it with ABL, write logs and results.

Example::

    python -m abl --dataset digits --attack badnets-grid --rate 0.1 --out runs/abl/demo
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from unpoison.cli import (
    add_data_arguments,
    add_run_arguments,
    exit_on_bad_input,
    run_method,
)

from abl.config import PAPER_VARIANT, AblConfig
from abl.method import run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m abl",
        description="Train a model on backdoor-poisoned data with Anti-Backdoor Learning (ABL). "
        "The dataset is poisoned with one attack, ABL isolates the lowest-loss 1% of examples, "
        "fine-tunes on the rest and unlearns the isolated ones. Writes TensorBoard logs, a "
        "checkpoint per epoch and results.json into --out.",
    )
    add_data_arguments(parser, selection="all")  # ABL: random picks over the whole set
    parser.add_argument(
        "--variant",
        choices=("code", "paper"),
        default="code",
        help="code: the official code's pipeline (default); paper: the paper's description",
    )
    for name, kind in (
        ("isolation-epochs", int),
        ("finetune-epochs", int),
        ("unlearning-epochs", int),
        ("unlearning-lr", float),
        ("isolation-ratio", float),
        ("batch-size", int),
    ):
        parser.add_argument(f"--{name}", type=kind, help=f"override the config's {name}")
    add_run_arguments(parser, out=Path("runs/abl/run"))
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> AblConfig:
    config = PAPER_VARIANT if args.variant == "paper" else AblConfig()
    overrides = {
        field: getattr(args, field)
        for field in (
            "isolation_epochs",
            "finetune_epochs",
            "unlearning_epochs",
            "unlearning_lr",
            "isolation_ratio",
            "batch_size",
        )
        if getattr(args, field) is not None
    }
    return replace(config, **overrides)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_method(args, run, config_from_args(args), "abl", "unpoison-abl")


if __name__ == "__main__":
    exit_on_bad_input(main)
