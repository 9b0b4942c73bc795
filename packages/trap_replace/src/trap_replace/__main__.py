"""Command line: poison a dataset with one attack, defend it with Trap and Replace, write logs and
results.

Example::

    python -m trap_replace --dataset digits --attack badnets-grid --mini --out runs/tr/demo
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from unpoison.cli import add_data_arguments, add_run_arguments, exit_on_bad_input, run_method

from trap_replace.config import MINI_VARIANT, TrapReplaceConfig
from trap_replace.method import run

OVERRIDES = (
    ("trap-epochs", int),
    ("replace-epochs", int),
    ("trap-batch-size", int),
    ("replace-batch-size", int),
    ("stem-end-block", int),
)
MINI_HOLDOUT = 0.2  # the mini preset's holdout on digits (reproductions/trap_replace/presets.py)
CODE_HOLDOUT = 0.05  # T&R code: ratio_holdout


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m trap_replace",
        description="Train a model on backdoor-poisoned data with Trap and Replace (T&R). The "
        "dataset is poisoned with one attack, except for its last images, which the defender "
        "keeps aside as a clean holdout. Stage 1 trains a network whose stem also feeds an "
        "image-reconstruction decoder, so that the backdoor is trapped in its small head; stage "
        "2 freezes the stem and trains a fresh head on the clean holdout only. Defaults are the "
        "official code's settings. Writes TensorBoard logs, a checkpoint per epoch and "
        "results.json into --out.",
    )
    # T&R code: the first rate * N non-target images in index order, the last 5% held out
    add_data_arguments(parser, selection="first-non-target", holdout=CODE_HOLDOUT)
    parser.add_argument(
        "--mini",
        action="store_true",
        help="the mini preset's settings for digits (trap_replace.MINI_VARIANT and a "
        f"holdout of {MINI_HOLDOUT} unless --holdout is given) instead of the code's",
    )
    parser.add_argument(
        "--no-reconstruction",
        action="store_true",
        help="ablation (paper Table 4): train stage 1 without the reconstruction decoder",
    )
    parser.add_argument(
        "--keep-head",
        action="store_true",
        help="ablation (paper Table 4): report stage 1's model, without replacing its head",
    )
    for name, kind in OVERRIDES:
        parser.add_argument(f"--{name}", type=kind, help=f"override the config's {name}")
    add_run_arguments(parser, out=Path("runs/trap_replace/run"))
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    if args.mini and not any(a.startswith("--holdout") for a in given):
        args.holdout = MINI_HOLDOUT
    return args


def config_from_args(args: argparse.Namespace) -> TrapReplaceConfig:
    config = MINI_VARIANT if args.mini else TrapReplaceConfig()
    overrides = {
        field: getattr(args, field)
        for field in (name.replace("-", "_") for name, _ in OVERRIDES)
        if getattr(args, field) is not None
    }
    if args.no_reconstruction:
        overrides["reconstruct"] = False
    if args.keep_head:
        overrides["replace_head"] = False
    return replace(config, **overrides)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_method(args, run, config_from_args(args), "trap_replace", "unpoison-trap-replace")


if __name__ == "__main__":
    exit_on_bad_input(main)
