"""The command line every defense shares: poison a dataset with one attack, run one defense on it,
write TensorBoard logs, a checkpoint per epoch and ``results.json`` into ``--out``.

``python -m unpoison.defenses NAME ...`` runs any installed defense and ``--list`` lists them; a
method package's ``python -m abl ...`` is the same command line for its own defenses. A
defense's config starts from ``--variant`` (``--mini`` for ``--variant mini``) and takes
``--set FIELD=VALUE`` (dotted for nested configs) and the defense's own shortcut options.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from unpoison import attacks, data
from unpoison.defenses import registry
from unpoison.defenses.contract import MODEL, Defense
from unpoison.models.precision import add_precision_argument, resolve_precision
from unpoison.runner import DefenseRun, Poisoning
from unpoison.train import resolve_device


def _key_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` as (key, value), the value parsed as JSON when it parses."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def add_defense_arguments(parser: argparse.ArgumentParser, defense: Defense) -> None:
    """Every option of a run of ``defense``: data, poisoning, config and run options."""
    data_options = parser.add_argument_group("data and poisoning")
    data_options.add_argument("--dataset", default="digits", help="dataset (default: digits)")
    data_options.add_argument("--data-root", type=Path, help="folder holding the dataset files")
    data_options.add_argument(
        "--download", action="store_true", help="download the dataset if absent"
    )
    data_options.add_argument(
        "--attack", default="badnets-grid", help="attack (python -m unpoison.attacks --list)"
    )
    data_options.add_argument(
        "--attack-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_key_value,
        help="an attack parameter, repeatable; VALUE is read as JSON when it parses, else as a "
        "string (e.g. --attack dynamic --attack-param training=mini)",
    )
    data_options.add_argument("--rate", type=float, default=0.1, help="poison rate (default 0.1)")
    data_options.add_argument("--target", type=int, default=0, help="target class (default 0)")
    data_options.add_argument(
        "--selection",
        default=defense.selection,
        choices=attacks.SELECTIONS,
        help=f"which images are poisoned (default: {defense.selection}, the rule of the "
        "defense's paper; see unpoison.attacks.poison)",
    )
    data_options.add_argument(
        "--assets", type=Path, help="folder of trigger files (see python -m unpoison.assets)"
    )
    if defense.holdout:
        fractions = ", ".join(f"{v}: {f}" for v, f in defense.holdout.items())
        data_options.add_argument(
            "--holdout",
            type=float,
            help="fraction of the training set kept aside as the defender's clean holdout: its "
            f"last images, never poisoned (default per variant: {fractions})",
        )

    config = parser.add_argument_group(f"{defense.name} config")
    config.add_argument(
        "--variant",
        choices=tuple(defense.variants),
        default="code",
        help="the config to start from: code = the official code's settings (default), paper = "
        "the paper's description, mini = rescaled for digits on a CPU",
    )
    if "mini" in defense.variants:
        config.add_argument(
            "--mini", action="store_const", const="mini", dest="variant", help="--variant mini"
        )
    config.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        type=_key_value,
        help="set a config field, repeatable (dotted for nested configs, e.g. sd.train_epochs=2)",
    )
    for option in defense.options:
        if option.const is not None:
            config.add_argument(
                f"--{option.flag}", action="store_const", const=option.const, help=option.help
            )
        else:
            config.add_argument(
                f"--{option.flag}",
                choices=option.choices,
                metavar=None if option.choices else "VALUE",
                help=option.help or f"set the config's {option.path}",
            )

    run = parser.add_argument_group("run")
    run.add_argument("--seed", type=int, default=0, help="seed of poisoning and training")
    run.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 ... (default: auto)")
    add_precision_argument(run, default="fp32", says="fp32")
    out = Path(f"runs/{defense.name}/run")
    run.add_argument("--out", type=Path, default=out, help=f"output folder (default: {out})")
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last checkpoint (refused if its settings differ)",
    )


def build_parser(defenses: Sequence[Defense], prog: str, listing: bool) -> argparse.ArgumentParser:
    """One defense: its options. Several: one sub-command each (and ``--list`` with
    ``listing``)."""
    if len(defenses) == 1 and not listing:
        parser = _parser(defenses[0], prog)
        parser.set_defaults(defense=defenses[0].name)
        return parser
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train a model on backdoor-poisoned data with one defense. "
        f"`{prog} NAME --help` lists a defense's options.",
    )
    if listing:
        parser.add_argument("--list", action="store_true", help="list the installed defenses")
    commands = parser.add_subparsers(dest="defense", metavar="NAME", required=not listing)
    for defense in defenses:
        sub = commands.add_parser(defense.name, help=defense.summary, description=_about(defense))
        add_defense_arguments(sub, defense)
    return parser


def _parser(defense: Defense, prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=_about(defense))
    add_defense_arguments(parser, defense)
    return parser


def _about(defense: Defense) -> str:
    return (
        f"{defense.title}. {defense.summary} The dataset is poisoned with one attack; the run "
        "writes TensorBoard logs, a checkpoint per epoch and results.json into --out."
    )


def config_from_args(defense: Defense, args: argparse.Namespace) -> Any:
    """The ``--variant`` config with the shortcut options and ``--set`` applied."""
    config = defense.config(args.variant)
    for option in defense.options:
        value = getattr(args, option.flag.replace("-", "_"))
        if value is not None:
            config = with_field(config, option.path, value)
    for path, value in args.set:
        config = with_field(config, path, value)
    return config


def with_field(config: Any, path: str, value: Any) -> Any:
    """``config`` with the field at dotted ``path`` set to ``value``, converted to the field's
    type; ValueError naming the field for an unknown one or a value of the wrong type."""
    head, _, rest = path.partition(".")
    fields = {f.name for f in dataclasses.fields(config)}
    if head not in fields:
        raise ValueError(f"{type(config).__name__} has no field {head!r}; fields: {sorted(fields)}")
    current = getattr(config, head)
    if rest:
        return dataclasses.replace(config, **{head: with_field(current, rest, value)})
    if dataclasses.is_dataclass(current):
        raise ValueError(f"{path} is a group of settings: set its fields, e.g. {path}.FIELD=...")
    return dataclasses.replace(config, **{head: _converted(path, current, value)})


def _converted(path: str, current: Any, value: Any) -> Any:
    """``value`` as the type of the field's ``current`` value; ValueError if it is not one."""
    if isinstance(value, str) and not isinstance(current, str):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, int):
        ok = number and float(value).is_integer()
        value = int(value) if ok else value
    elif isinstance(current, float):
        ok, value = number, float(value) if number else value
    elif isinstance(current, tuple):
        ok, value = isinstance(value, list), tuple(value) if isinstance(value, list) else value
    else:
        ok = isinstance(value, str) or current is None
    if not ok:
        raise ValueError(f"{path} takes a {type(current).__name__} like {current!r}, got {value!r}")
    return value


def list_defenses() -> str:
    """One block per installed defense: name, title, summary, variants and assumptions."""
    blocks = []
    for name in registry.names():
        defense = registry.get(name)
        trains = "purifies a model it trains first" if defense.purifies else "trains from scratch"
        holdout = (
            ", clean holdout " + ", ".join(f"{v} {f:g}" for v, f in defense.holdout.items())
            if defense.holdout
            else ""
        )
        facts = (
            f"variants: {', '.join(defense.variants)}; stages: {', '.join(defense.stages)}; "
            f"{trains}{holdout}"
        )
        lines = [defense.title, *textwrap.wrap(defense.summary, 96), *textwrap.wrap(facts, 96)]
        blocks.append(
            f"{name}  ({registry.distribution(name)})\n" + "\n".join(f"  {line}" for line in lines)
        )
    return "\n\n".join(blocks)


def main(
    argv: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    prog: str = "python -m unpoison.defenses",
) -> int:
    """Parse ``argv`` and run one defense (of ``names``, default every installed one)."""
    listing = names is None
    defenses = [registry.get(name) for name in (names or registry.names())]
    args = build_parser(defenses, prog, listing).parse_args(argv)
    if listing and args.list:
        print(list_defenses())
        return 0
    if args.defense is None:
        raise ValueError(f"name a defense ({', '.join(registry.names())}) or pass --list")
    defense = registry.get(args.defense)
    config = config_from_args(defense, args)
    device = resolve_device(args.device)
    holdout = getattr(args, "holdout", None)
    poisoning = Poisoning(
        dataset=args.dataset,
        attack=args.attack,
        attack_params=dict(args.attack_param),
        rate=args.rate,
        target=args.target,
        selection=args.selection,
        holdout=defense.holdout_for(args.variant) if holdout is None else holdout,
    )
    run = DefenseRun(
        defense,
        config,
        poisoning,
        poisoning.create_attack(args.assets),
        args.seed,
        resolve_precision(args.precision, device),
        device,
    )
    run.check(args.out, args.resume)
    dataset = data.load(args.dataset, root=args.data_root, download=args.download)
    result, path = run.execute(args.out, dataset)
    for group, values in result.metrics.items():
        shown = " ".join(f"{k}={v:.2f}" for k, v in values.items())
        print(shown if group == MODEL else f"{group}: {shown}")
    print(f"results: {path}")
    return 0


def exit_on_bad_input(main: Callable[[], int]) -> None:
    """Run ``main()`` and turn bad input (FileNotFoundError, ValueError) into a one-line error."""
    try:
        raise SystemExit(main())
    except (FileNotFoundError, ValueError) as error:  # the message says what to do
        raise SystemExit(f"error: {error}") from None


def command_line(names: Sequence[str], prog: str) -> Callable[[Sequence[str] | None], int]:
    """The ``main(argv)`` of a package's ``python -m <package>``: this command line for the
    defenses ``names``."""
    return lambda argv=None: main(argv, names, prog)
