"""The method CLIs' shared data options: ``--attack-param`` and bad parameters rejected early."""

import argparse

import pytest
from unpoison.cli import add_data_arguments, load_poisoned


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    return parser.parse_args(list(argv))


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
    args.seed = 0  # a run option, added by add_run_arguments
    data = load_poisoned(args, "cpu")
    assert data.attack.params()["alpha"] == 0.5
    with pytest.raises(ValueError, match="has no parameter"):
        load_poisoned(parse("--attack-param", "colour=red"), "cpu")
