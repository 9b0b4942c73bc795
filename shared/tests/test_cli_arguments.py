"""The shared defense command line's options: ``--attack-param``, ``--variant`` and ``--set``,
and bad values rejected before any work."""

import argparse
import re
from dataclasses import dataclass, field

import pytest
from unpoison.attacks.poison import check_target
from unpoison.defenses.cli import build_parser, config_from_args, with_field
from unpoison.defenses.none import DEFENSE as NONE
from unpoison.runner import Poisoning
from unpoison.train import MINI_NO_DEFENSE, SGDConfig


def parse(*argv: str) -> argparse.Namespace:
    return build_parser([NONE], "test", listing=False).parse_args(list(argv))


def test_attack_params_are_read_as_json_or_strings() -> None:
    args = parse("--attack-param", "alpha=0.3", "--attack-param", "training=mini")
    assert dict(args.attack_param) == {"alpha": 0.3, "training": "mini"}
    assert parse().attack_param == []


def test_an_attack_param_without_a_key_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit):
        parse("--attack-param", "alpha")
    assert "expected KEY=VALUE, got 'alpha'" in capsys.readouterr().err


def test_attack_params_reach_the_attack() -> None:
    args = parse("--attack", "blend-strip", "--attack-param", "alpha=0.5", "--rate", "0.05")
    poisoning = Poisoning(args.dataset, args.attack, dict(args.attack_param), args.rate)
    assert poisoning.create_attack().params()["alpha"] == 0.5
    with pytest.raises(ValueError, match="has no parameter"):
        Poisoning("digits", "badnets-grid", {"colour": "red"}).create_attack()


def test_the_variant_and_set_build_the_config() -> None:
    assert config_from_args(NONE, parse()) == NONE.variants["code"]
    assert config_from_args(NONE, parse("--mini")) == MINI_NO_DEFENSE
    config = config_from_args(NONE, parse("--mini", "--set", "epochs=3", "--set", "sgd.lr=1"))
    assert (config.epochs, config.sgd.lr, config.batch_size) == (3, 1.0, 64)
    assert config_from_args(NONE, parse("--set", "milestones=[2, 4]")).milestones == (2, 4)


@dataclass(frozen=True)
class Toy:
    flag: bool = False
    count: int = 1
    name: str = "a"
    sgd: SGDConfig = field(default_factory=SGDConfig)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("nope", 1, "Toy has no field 'nope'"),
        ("count", 1.5, "count takes a int like 1, got 1.5"),
        ("count", "many", "count takes a int like 1, got 'many'"),
        ("flag", 1, "flag takes a bool like False, got 1"),
        ("name", 3, "name takes a str like 'a', got 3"),
        ("sgd", 0.1, "sgd is a group of settings"),
        ("sgd.speed", 0.1, "SGDConfig has no field 'speed'"),
    ],
)
def test_a_bad_field_or_value_is_named(path: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        with_field(Toy(), path, value)


def test_values_are_converted_to_the_fields_types() -> None:
    assert with_field(Toy(), "count", "3").count == 3
    assert with_field(Toy(), "flag", "true").flag is True
    assert with_field(Toy(), "sgd.lr", 1).sgd.lr == 1.0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rate": 1.5}, "poison rate"),
        ({"rate": 0}, "poison rate"),
        ({"selection": "some"}, "unknown selection 'some'"),
        ({"holdout": 1.0}, "holdout fraction"),
    ],
)
def test_bad_poisoning_is_refused_when_described(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Poisoning("digits", "badnets-grid", **fields)
    with pytest.raises(
        ValueError, match=re.escape("target must be an int in [0, 9] (num_classes=10), got 10")
    ):
        check_target(10, 10)
