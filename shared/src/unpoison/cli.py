"""What every method's command line shares: the poisoned-data options, the run options, and the
poisoning they describe. A method adds its own options and calls its ``run``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from unpoison import attacks, data
from unpoison.attacks import Attack
from unpoison.attacks.learned import default_network_cache
from unpoison.data.split import ImageDataset, PoisonedSplit, Split
from unpoison.logging import TensorBoardLogger, write_results
from unpoison.models.precision import (
    add_precision_argument,
    compute_precision,
    resolve_precision,
)
from unpoison.train import resolve_device, seed_everything


@dataclass(frozen=True)
class PoisonedData:
    """A dataset, the attack on it, its poisoned training split, the defender's clean holdout
    (None without ``--holdout``) and the triggered test set."""

    dataset: ImageDataset
    attack: Attack
    poisoned: PoisonedSplit
    holdout: Split | None
    backdoor_test: Split


def add_data_arguments(
    parser: argparse.ArgumentParser, selection: str = "all", holdout: float | None = None
) -> None:
    """``--dataset --data-root --download --attack --rate --target --selection --assets``.

    ``selection`` is the method's paper's own rule, the default of ``--selection``. A method that
    trains on a clean holdout passes its paper's fraction as ``holdout``, which adds ``--holdout``.
    """
    parser.add_argument("--dataset", default="digits", help="dataset name (default: digits)")
    parser.add_argument("--data-root", type=Path, help="folder holding the dataset files")
    parser.add_argument("--download", action="store_true", help="download the dataset if absent")
    parser.add_argument(
        "--attack", default="badnets-grid", help="attack name (python -m unpoison.attacks --list)"
    )
    parser.add_argument(
        "--attack-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_attack_param,
        help="an attack parameter, repeatable; VALUE is read as JSON when it parses, else as a "
        "string (e.g. --attack dynamic --attack-param training=mini)",
    )
    parser.add_argument(
        "--rate", type=float, default=0.1, help="poison rate in (0, 1) (default 0.1)"
    )
    parser.add_argument("--target", type=int, default=0, help="target class (default 0)")
    parser.add_argument(
        "--selection",
        default=selection,
        choices=attacks.SELECTIONS,
        help=f"which images are poisoned (default: {selection}; see unpoison.attacks.poison)",
    )
    parser.add_argument(
        "--assets", type=Path, help="folder of trigger files (see python -m unpoison.assets)"
    )
    if holdout is not None:
        parser.add_argument(
            "--holdout",
            type=float,
            default=holdout,
            help=f"fraction of the training set kept aside as the defender's clean holdout: its "
            f"last images, never poisoned (default {holdout}); the poison count stays a fraction "
            "of the whole set",
        )


def add_run_arguments(parser: argparse.ArgumentParser, out: Path) -> None:
    """``--seed --device --precision --out --resume``; ``out`` is the default output folder."""
    parser.add_argument("--seed", type=int, default=0, help="seed of poisoning and training")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 ... (default: auto)")
    add_precision_argument(parser, default="fp32", says="fp32")
    parser.add_argument("--out", type=Path, default=out, help=f"output folder (default: {out})")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )


def _attack_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` as (key, value), the value parsed as JSON when it parses."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def checkpoint_dir(args: argparse.Namespace) -> Path:
    """``<out>/checkpoints``; exits with a message if it holds a run and ``--resume`` is off."""
    checkpoints = args.out / "checkpoints"
    if checkpoints.exists() and not args.resume:
        sys.exit(f"{args.out} already holds a run: pass --resume to continue it or pick --out")
    return checkpoints


def load_poisoned(args: argparse.Namespace, device: torch.device) -> PoisonedData:
    """Load ``--dataset``, poison its training split with ``--attack`` as the options say, and
    build the triggered test set; the splits are moved to ``device``."""
    dataset = data.load(args.dataset, root=args.data_root, download=args.download)
    attack = attacks.create(args.attack, assets=args.assets, **dict(args.attack_param))
    attack.prepare(
        dataset.train,
        target=args.target,
        num_classes=dataset.num_classes,
        seed=args.seed,
        device=device,
        cache_dir=default_network_cache(),
    )
    train, holdout = dataset.train, None
    if getattr(args, "holdout", None):
        train, holdout = data.split_holdout(dataset.train, args.holdout)
    poisoned = attacks.poison(
        train,
        attack,
        args.rate,
        args.target,
        seed=args.seed,
        selection=args.selection,
        num_classes=dataset.num_classes,
        rate_base=None if holdout is None else len(dataset.train),
    )
    backdoor_test = attacks.backdoor_test_set(
        dataset.test, attack, args.target, dataset.num_classes
    )
    return PoisonedData(
        dataset,
        attack,
        poisoned.to(device),
        None if holdout is None else holdout.to(device),
        backdoor_test.to(device),
    )


def poisoning_record(args: argparse.Namespace, attack: Attack) -> dict[str, object]:
    """The poisoning options as they go into results.json."""
    return {
        "dataset": args.dataset,
        "attack": {"name": attack.name, **attack.params()},
        "rate": args.rate,
        "target": args.target,
        "selection": args.selection,
        "holdout": getattr(args, "holdout", None),
    }


def run_method(
    args: argparse.Namespace, run: Callable[..., Any], config: Any, name: str, package: str
) -> int:
    """Poison as ``args`` say, defend with ``run`` (a method package's ``run``) and ``config``,
    write TensorBoard logs, per-epoch checkpoints and ``results.json`` into ``--out``.

    ``name`` keys the config in results.json; ``package`` is the method's distribution, whose
    version is recorded. Prints the final metrics and the results path.
    """
    checkpoints = checkpoint_dir(args)
    device = resolve_device(args.device)
    precision = resolve_precision(args.precision, device)
    seed_everything(args.seed)
    inputs = load_poisoned(args, device)
    logger = TensorBoardLogger(args.out)
    holdout = {} if inputs.holdout is None else {"holdout": inputs.holdout}
    with compute_precision(precision):
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
            **holdout,
        )
    logger.close()
    path = write_results(
        args.out,
        config={
            **poisoning_record(args, inputs.attack),
            "precision": precision,
            name: asdict(config),
        },
        seed=args.seed,
        metrics=result.metrics,
        stage_seconds=result.stage_seconds,
        extra_packages=(package,),
    )
    print(" ".join(f"{k}={v:.2f}" for k, v in result.metrics.items()))
    print(f"results: {path}")
    return 0


def exit_on_bad_input(main: object) -> None:
    """Run ``main()`` and turn bad input (FileNotFoundError, ValueError) into a one-line error."""
    try:
        raise SystemExit(main())  # type: ignore[operator]
    except (FileNotFoundError, ValueError) as error:  # the message says what to do
        raise SystemExit(f"error: {error}") from None
