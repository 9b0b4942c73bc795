"""Digits poisoned as T&R poisons them (mini holdout), shared by the T&R tests."""

from dataclasses import replace

import pytest
from unpoison import attacks
from unpoison.attacks.paper_presets import TRAP_REPLACE

MINI_POISONING = replace(TRAP_REPLACE, holdout=0.2)  # the mini preset's holdout on digits


@pytest.fixture(scope="session")
def trap_digits(digits):
    """(poisoned split, clean holdout, backdoor test set) for badnets-grid, T&R's rules."""
    attack = attacks.create("badnets-grid")
    poisoned = MINI_POISONING.poison(digits.train, attack, num_classes=10)
    _, holdout = MINI_POISONING.split_holdout(digits.train)
    return poisoned, holdout, attacks.backdoor_test_set(digits.test, attack, 0, 10)
