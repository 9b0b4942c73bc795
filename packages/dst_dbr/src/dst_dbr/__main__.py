"""Command line: poison a dataset with one attack, defend it with D-ST or D-BR, write logs and
results.

Example::

    python -m dst_dbr d-br --dataset digits --attack badnets-grid --mini --out runs/dst_dbr/demo
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from unpoison.cli import add_data_arguments, add_run_arguments, exit_on_bad_input, run_method

from dst_dbr.config import CONTRASTS, MINI_DBR, MINI_DST, DBRConfig, DSTConfig
from dst_dbr.dbr import run as run_dbr
from dst_dbr.dst import run as run_dst

METHODS = {"d-st": (run_dst, DSTConfig, MINI_DST), "d-br": (run_dbr, DBRConfig, MINI_DBR)}
# option -> (the part of the config it sets, the field, the methods that have that part)
OVERRIDES = {
    "sd-train-epochs": ("sd", "train_epochs", ("d-st", "d-br")),
    "sd-finetune-epochs": ("sd", "finetune_epochs", ("d-st", "d-br")),
    "extractor-epochs": ("st", "extractor_epochs", ("d-st",)),
    "classifier-epochs": ("st", "classifier_epochs", ("d-st",)),
    "backdoored-epochs": ("backdoored", "epochs", ("d-br",)),
    "br-epochs": ("br", "epochs", ("d-br",)),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m dst_dbr",
        description="Train a model on backdoor-poisoned data with D-ST or D-BR. Both first split "
        "the training set by how much each image's features change when it is rotated and "
        "shifted (poisoned images change most): suspected clean, uncertain, suspected poisoned. "
        "D-ST then trains a new model from scratch (contrastive features, then a linear layer "
        "that learns the clean part and unlearns the poisoned one); D-BR trains a backdoored "
        "model and purifies it (ascent on the poisoned part, descent on the clean part). "
        "Defaults are the official code's CIFAR-10 settings. Writes TensorBoard logs, a "
        "checkpoint per epoch and results.json into --out.",
    )
    parser.add_argument("method", choices=sorted(METHODS), help="d-st or d-br")
    # D-ST code: seeded random picks among the non-target images (all-to-one)
    add_data_arguments(parser, selection="non-target")
    parser.add_argument(
        "--mini",
        action="store_true",
        help="the mini preset's settings for digits (dst_dbr.MINI_DST and MINI_DBR: narrower "
        "ResNet-18s, fewer epochs, the same algorithm) instead of the code's",
    )
    parser.add_argument(
        "--single-pass-split",
        action="store_true",
        help="split on the scores the thresholds came from (the code scores every image again "
        "with new random transforms)",
    )
    parser.add_argument(
        "--contrast",
        choices=CONTRASTS,
        help="D-ST's extractor loss (the poster's ablation): ctl, s-ctl or ss-ctl (default)",
    )
    for name, (_, _, methods) in OVERRIDES.items():
        parser.add_argument(
            f"--{name}", type=int, help=f"override the config's {name} ({' and '.join(methods)})"
        )
    add_run_arguments(parser, out=Path("runs/dst_dbr/run"))
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> DSTConfig | DBRConfig:
    _, default, mini = METHODS[args.method]
    config = mini if args.mini else default()
    if args.single_pass_split:
        config = replace(config, sd=replace(config.sd, resample_split=False))
    if args.contrast is not None:
        if not isinstance(config, DSTConfig):
            raise ValueError("--contrast is an option of d-st")
        config = replace(config, st=replace(config.st, contrast=args.contrast))
    for name, (part, field, methods) in OVERRIDES.items():
        value = getattr(args, name.replace("-", "_"))
        if value is None:
            continue
        if args.method not in methods:
            raise ValueError(f"--{name} is an option of {' and '.join(methods)}")
        config = replace(config, **{part: replace(getattr(config, part), **{field: value})})
    return config


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = METHODS[args.method][0]
    return run_method(args, run, config_from_args(args), args.method, "unpoison-dst-dbr")


if __name__ == "__main__":
    exit_on_bad_input(main)
