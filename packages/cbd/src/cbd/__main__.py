"""Command line: poison a dataset with one attack, defend it with CBD, write logs and results.

Example::

    python -m cbd --dataset digits --attack badnets-grid --rate 0.1 --mini --out runs/cbd/demo
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

from cbd.config import MINI_VARIANT, CbdConfig
from cbd.method import run

OVERRIDES = (("backdoored-epochs", int), ("clean-epochs", int), ("batch-size", int))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cbd",
        description="Train a model on backdoor-poisoned data with Causality-inspired Backdoor "
        "Defense (CBD). The dataset is poisoned with one attack; CBD first trains a deliberately "
        "backdoored model f_B for a few epochs, then trains a clean model f_C whose per-example "
        "loss is weighted down where f_B fits best (optionally also minimising the mutual "
        "information between the two models' features). Defaults are the official code's "
        "settings. Writes TensorBoard logs, a checkpoint per epoch and results.json into --out.",
    )
    add_data_arguments(parser, selection="all")  # CBD code: ABL's random picks over the whole set
    parser.add_argument(
        "--mini",
        action="store_true",
        help="the mini preset's settings for digits (cbd.MINI_VARIANT) instead of the code's",
    )
    parser.add_argument(
        "--disentangle",
        action="store_true",
        help="add the adversarial mutual-information term (off in the official code's default, "
        "on in the paper)",
    )
    parser.add_argument(
        "--backdoored-schedule",
        choices=("code", "intended"),
        help="f_B's lr: code = constant (the official code's bug, default); intended = the "
        "clean phase's step schedule",
    )
    for name, kind in OVERRIDES:
        parser.add_argument(f"--{name}", type=kind, help=f"override the config's {name}")
    add_run_arguments(parser, out=Path("runs/cbd/run"))
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> CbdConfig:
    config = MINI_VARIANT if args.mini else CbdConfig()
    overrides = {
        field: getattr(args, field)
        for field in ("backdoored_schedule", *(name.replace("-", "_") for name, _ in OVERRIDES))
        if getattr(args, field) is not None
    }
    if args.disentangle:
        overrides["disentangle"] = True
    return replace(config, **overrides)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_method(args, run, config_from_args(args), "cbd", "unpoison-cbd")


if __name__ == "__main__":
    exit_on_bad_input(main)
