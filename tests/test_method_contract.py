"""Every installed defense keeps the contract (``defense_contract``); the list of defenses comes
from the ``unpoison.defenses`` entry points and nowhere else."""

from pathlib import Path

import pytest
from defense_contract import (
    BAD_INPUT,
    check_an_unknown_model_fails_before_training,
    check_bad_input_fails_before_training,
    check_registration,
    check_training_ignores_the_true_flags_and_labels,
)
from unpoison.defenses import registry

DEFENSES = registry.names()


def test_the_project_installs_its_defenses() -> None:
    # One defense per entry point of the core and the method packages: their pyproject.tomls
    # declare six.
    assert len(DEFENSES) == 6


@pytest.mark.parametrize("name", DEFENSES)
def test_registration(name: str) -> None:
    check_registration(name)


@pytest.mark.parametrize("name", DEFENSES)
def test_training_ignores_the_true_flags_and_labels(name: str, poisoned_digits) -> None:
    check_training_ignores_the_true_flags_and_labels(name, poisoned_digits[0])


@pytest.mark.parametrize("name", DEFENSES)
def test_an_unknown_model_fails_before_training(name: str, poisoned_digits, tmp_path) -> None:
    check_an_unknown_model_fails_before_training(name, poisoned_digits[0], tmp_path)


@pytest.mark.parametrize("name", DEFENSES)
@pytest.mark.parametrize(("args", "error", "message"), BAD_INPUT)
def test_bad_input_fails_before_training(
    name: str, tmp_path: Path, args: list[str], error: type, message: str
) -> None:
    check_bad_input_fails_before_training(name, tmp_path, args, error, message)
