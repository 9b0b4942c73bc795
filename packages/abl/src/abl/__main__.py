"""Command line: poison a dataset with one attack, defend it with ABL, write logs and results.

Example::

    python -m abl --dataset digits --attack badnets-grid --rate 0.1 --out runs/abl/demo
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from pathlib import Path

from unpoison.cli import (
    add_data_arguments,
    add_run_arguments,
    checkpoint_dir,
    exit_on_bad_input,
    load_poisoned,
    poisoning_record,
)
from unpoison.logging import TensorBoardLogger, write_results
from unpoison.train import resolve_device, seed_everything

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
    checkpoints = checkpoint_dir(args)
    config = config_from_args(args)
    device = resolve_device(args.device)
    seed_everything(args.seed)
    inputs = load_poisoned(args, device)
    logger = TensorBoardLogger(args.out)
    result = run(
        inputs.poisoned,
        num_classes=inputs.dataset.num_classes,
        config=config,
        test=inputs.dataset.test.to(device),
        backdoor_test=inputs.backdoor_test,
        target=args.target,
        seed=args.seed,
        device=device,
        logger=logger,
        checkpoint_dir=checkpoints,
    )
    logger.close()
    path = write_results(
        args.out,
        config={**poisoning_record(args, inputs.attack), "abl": asdict(config)},
        seed=args.seed,
        metrics=result.metrics,
        stage_seconds=result.stage_seconds,
        extra_packages=("unpoison-abl",),
    )
    print(" ".join(f"{k}={v:.2f}" for k, v in result.metrics.items()))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    exit_on_bad_input(main)
