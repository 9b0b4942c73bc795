"""The defender's clean holdout: its place, its size, and that no poison ever lands in it."""

import pytest
import torch
from unpoison import attacks
from unpoison.attacks.paper_presets import ABL, TRAP_REPLACE
from unpoison.data import Split, split_holdout


def labelled(n: int, classes: int = 10) -> Split:
    return Split(
        torch.zeros(n, 3, 32, 32, dtype=torch.uint8), torch.arange(n, dtype=torch.int64) % classes
    )


def test_the_holdout_is_the_last_fraction_in_order() -> None:
    rest, holdout = split_holdout(labelled(50_000), 0.05)
    assert (len(rest), len(holdout)) == (47_500, 2_500)  # T&R's CIFAR-10 split
    assert torch.equal(holdout.y, torch.arange(47_500, 50_000) % 10)
    rest, holdout = split_holdout(labelled(1437), 0.05)
    assert (len(rest), len(holdout)) == (1366, 71)  # int(0.05 * 1437)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, True, 0.0001])
def test_bad_fractions_are_rejected(fraction) -> None:
    with pytest.raises(ValueError, match="holdout"):
        split_holdout(labelled(1437), fraction)


def test_trap_replace_poisons_a_tenth_of_the_whole_set_and_never_the_holdout() -> None:
    train = labelled(50_000)
    attack = attacks.create("badnets-grid")
    poisoned = TRAP_REPLACE.poison(train, attack, num_classes=10)
    rest, holdout = TRAP_REPLACE.split_holdout(train)
    assert len(poisoned) == len(rest) == 47_500 and len(holdout) == 2_500
    # T&R code: 10% of 50,000 (not of 47,500), the first non-target images in index order
    assert int(poisoned.is_poison.sum()) == 5_000
    assert int(poisoned.is_poison.nonzero().max()) < 47_500
    first = torch.nonzero(rest.y != 0).squeeze(1)[:5_000]
    assert torch.equal(poisoned.is_poison.nonzero().squeeze(1), first)


def test_papers_without_a_holdout_poison_the_whole_split() -> None:
    train = labelled(1437)
    assert ABL.split_holdout(train) == (train, None)
    assert len(ABL.poison(train, attacks.create("badnets-grid"), num_classes=10)) == 1437


def test_rate_base_is_only_for_the_first_selections() -> None:
    train = labelled(1000)
    attack = attacks.create("badnets-grid")
    with pytest.raises(ValueError, match="rate_base"):
        attacks.poison(train, attack, 0.1, 0, selection="all", rate_base=2000)
    with pytest.raises(ValueError, match="rate_base"):
        attacks.poison(train, attack, 0.1, 0, selection="first-non-target", rate_base=999)
    poisoned = attacks.poison(train, attack, 0.1, 0, selection="first-non-target", rate_base=2000)
    assert int(poisoned.is_poison.sum()) == 200
