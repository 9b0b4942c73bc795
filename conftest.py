"""Digits and digits poisoned with badnets-grid, shared by every test of the repository."""

import pytest
from unpoison import attacks, data


@pytest.fixture(scope="session")
def digits() -> data.ImageDataset:
    return data.load("digits")


@pytest.fixture(scope="session")
def poisoned_digits(digits: data.ImageDataset):
    """(poisoned train split, backdoor test set) for badnets-grid at 10%, target 0, seed 0."""
    attack = attacks.create("badnets-grid")
    poisoned = attacks.poison(digits.train, attack, 0.1, 0, seed=0, num_classes=10)
    return poisoned, attacks.backdoor_test_set(digits.test, attack, 0, 10)
