"""Command line: poison a dataset with one attack, defend it with ABL, write logs and results.

Example::

    python -m abl --dataset digits --attack badnets-grid --rate 0.1 --out runs/abl/demo
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, replace
from pathlib import Path

from unpoison import attacks, data
from unpoison.logging import TensorBoardLogger, write_results
from unpoison.train import resolve_device, seed_everything

from abl.config import PAPER_VARIANT, AblConfig
from abl.method import run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m abl",
        description="Train a model on backdoor-poisoned data with Anti-Backdoor Learning (ABL). "
        "The dataset is poisoned with one attack, ABL isolates the lowest-loss 1%% of examples, "
        "fine-tunes on the rest and unlearns the isolated ones. Writes TensorBoard logs, a "
        "checkpoint per epoch and results.json into --out.",
    )
    parser.add_argument("--dataset", default="digits", help="dataset name (default: digits)")
    parser.add_argument("--data-root", type=Path, help="folder holding the dataset files")
    parser.add_argument("--download", action="store_true", help="download the dataset if absent")
    parser.add_argument(
        "--attack", default="badnets-grid", help="attack name (default: badnets-grid)"
    )
    parser.add_argument(
        "--rate", type=float, default=0.1, help="poison rate in (0, 1) (default 0.1)"
    )
    parser.add_argument("--target", type=int, default=0, help="target class (default 0)")
    parser.add_argument(
        "--selection",
        default="all",
        choices=attacks.SELECTIONS,
        help="which images are poisoned (default: all, ABL's rule; see unpoison.attacks.poison)",
    )
    parser.add_argument(
        "--assets", type=Path, help="folder of trigger files (see python -m unpoison.assets)"
    )
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
    parser.add_argument("--seed", type=int, default=0, help="seed of poisoning and training")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 ... (default: auto)")
    parser.add_argument("--out", type=Path, default=Path("runs/abl/run"), help="output folder")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
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
    checkpoints = args.out / "checkpoints"
    if checkpoints.exists() and not args.resume:
        sys.exit(f"{args.out} already holds a run: pass --resume to continue it or pick --out")
    config = config_from_args(args)
    device = resolve_device(args.device)
    seed_everything(args.seed)

    dataset = data.load(args.dataset, root=args.data_root, download=args.download)
    attack = attacks.create(args.attack, assets=args.assets)
    poisoned = attacks.poison(
        dataset.train,
        attack,
        args.rate,
        args.target,
        seed=args.seed,
        selection=args.selection,
        num_classes=dataset.num_classes,
    )
    backdoor_test = attacks.backdoor_test_set(
        dataset.test, attack, args.target, dataset.num_classes
    )
    logger = TensorBoardLogger(args.out)
    result = run(
        poisoned.to(device),
        num_classes=dataset.num_classes,
        config=config,
        test=dataset.test,
        backdoor_test=backdoor_test,
        target=args.target,
        seed=args.seed,
        device=device,
        logger=logger,
        checkpoint_dir=checkpoints,
    )
    logger.close()
    record = {
        "dataset": args.dataset,
        "attack": {"name": attack.name, **attack.params()},
        "rate": args.rate,
        "target": args.target,
        "selection": args.selection,
        "abl": asdict(config),
    }
    path = write_results(
        args.out,
        config=record,
        seed=args.seed,
        metrics=result.metrics,
        stage_seconds=result.stage_seconds,
        extra_packages=("unpoison-abl",),
    )
    print(" ".join(f"{k}={v:.2f}" for k, v in result.metrics.items()))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except (FileNotFoundError, ValueError) as error:  # bad input: the message says what to do
        raise SystemExit(f"error: {error}") from None
