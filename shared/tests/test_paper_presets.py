"""Each paper's poisoning preset: the counts of docs/attacks.md §3 on CIFAR-10-sized labels, and
its variants."""

import numpy as np
import pytest
import torch
from unpoison.attacks import create
from unpoison.attacks.base import ATTACKS, LabelRule
from unpoison.attacks.paper_presets import (
    CLEAN_ACCURACIES,
    PAPER_POISONING,
    paper_poisoning,
)
from unpoison.data.split import Split

PER_CLASS = 5000  # CIFAR-10: 50,000 training images, 5,000 per class


@pytest.fixture(scope="module")
def cifar_sized() -> Split:
    """50,000 tiny images with CIFAR-10's label counts in a shuffled order."""
    labels = np.random.default_rng(3).permutation(np.repeat(np.arange(10), PER_CLASS))
    x = torch.zeros(len(labels), 3, 4, 4, dtype=torch.uint8)
    return Split(x, torch.from_numpy(labels))


def test_dst_dbr_poisons_10_percent_of_non_target_images(cifar_sized: Split) -> None:
    preset = paper_poisoning("dst_dbr")
    poisoned = preset.poison(cifar_sized, create("badnets-grid"), num_classes=10)
    assert int(poisoned.is_poison.sum()) == 4500
    assert not bool((poisoned.y_true[poisoned.is_poison] == 0).any())
    assert bool((poisoned.y[poisoned.is_poison] == 0).all())


def test_dst_dbr_clean_label_poisons_500_target_images(cifar_sized: Split) -> None:
    poisoned = paper_poisoning("dst_dbr").poison(cifar_sized, create("sig"), num_classes=10)
    assert int(poisoned.is_poison.sum()) == 500
    assert bool((poisoned.y_true[poisoned.is_poison] == 0).all())
    assert torch.equal(poisoned.y, poisoned.y_true)


def test_dst_dbr_all_to_all_poisons_10_percent_of_all_images(cifar_sized: Split) -> None:
    attack = create("badnets-square", size=1)
    poisoned = paper_poisoning("dst_dbr").poison(cifar_sized, attack, num_classes=10)
    assert int(poisoned.is_poison.sum()) == 5000
    picked = poisoned.is_poison
    assert torch.equal(poisoned.y[picked], (poisoned.y_true[picked] + 1) % 10)


@pytest.mark.parametrize("paper", ["abl", "cbd"])
def test_abl_and_cbd_poison_5000_images_of_any_class(cifar_sized: Split, paper: str) -> None:
    poisoned = paper_poisoning(paper).poison(cifar_sized, create("badnets-grid"), num_classes=10)
    assert int(poisoned.is_poison.sum()) == 5000
    target_picks = int((poisoned.y_true[poisoned.is_poison] == 0).sum())
    assert 400 < target_picks < 600  # about 10% of the picks are target-class images
    assert bool((poisoned.y[poisoned.is_poison] == 0).all())


def test_trap_replace_takes_the_first_5000_non_target_images(cifar_sized: Split) -> None:
    poisoned = paper_poisoning("trap_replace").poison(
        cifar_sized, create("badnets-grid"), num_classes=10
    )
    expected = torch.nonzero(cifar_sized.y != 0).squeeze(1)[:5000]
    assert torch.equal(torch.nonzero(poisoned.is_poison).squeeze(1), expected)


def test_trap_replace_clean_label_takes_every_target_image(cifar_sized: Split) -> None:
    poisoned = paper_poisoning("trap_replace").poison(
        cifar_sized, create("sig-stripe"), num_classes=10
    )
    # every target image before the 5% holdout (fewer than the 5,000 the rate allows)
    assert torch.equal(poisoned.is_poison, cifar_sized.y[:47_500] == 0)


def test_every_row_names_a_registered_attack_or_is_pending() -> None:
    for preset in PAPER_POISONING.values():
        assert preset.clean_accuracy in CLEAN_ACCURACIES
        assert (preset.rate, preset.target) == (0.1, 0)
        for row in preset.attacks.values():
            for setting in (row, *row.variants.values()):
                if setting.attack is not None:
                    assert setting.attack in ATTACKS.names()


def test_same_table_name_means_each_papers_own_trigger() -> None:
    def attack_of(paper: str, row: str, dataset: str = "cifar10") -> tuple[str | None, dict]:
        setting = paper_poisoning(paper).table_attack(row, dataset)
        return setting.attack, dict(setting.params)

    assert attack_of("abl", "Blend") == ("blend-strip", {})
    assert attack_of("trap_replace", "Blend") == ("blend-kitty", {"resize": "antialias"})
    assert attack_of("dst_dbr", "Blend-Kitty") == ("blend-kitty", {"resize": "bilinear"})
    assert attack_of("abl", "SIG")[0] == "sig-abl"
    assert attack_of("trap_replace", "SIG")[0] == "sig-stripe"
    assert attack_of("dst_dbr", "SIG")[0] == "sig"
    assert attack_of("cbd", "Trojan") == ("trojan-3x3", {"overflow": "wrap"})
    # Dynamic: the official generator recipe, and the short one on digits, in ABL and CBD alike
    for paper, row, attack in [
        ("abl", "Dynamic", "dynamic"),
        ("cbd", "Dynamic", "dynamic"),
        ("abl", "CL", "cl-abl"),
        ("abl", "LBA", "lba"),
        ("abl", "DFST", "dfst"),
        ("abl", "FC", "fc"),
        ("dst_dbr", "CL", "cl-dst"),
        ("trap_replace", "LCBA", "lcba"),
    ]:
        assert attack_of(paper, row) == (attack, {"training": "paper"})
        assert attack_of(paper, row, "digits") == (attack, {"training": "mini"})
    assert attack_of("trap_replace", "Smooth", "gtsrb") == ("smooth", {"dataset": "gtsrb"})
    assert attack_of("dst_dbr", "BN-all2one") == attack_of("dst_dbr", "BadNets-all2one")
    assert attack_of("dst_dbr", "BadNets-all2one", "imagenet-subset")[0] == (
        "badnets-square-imagenet"
    )


def test_unknown_rows_and_presets_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="rows: BadNets"):
        paper_poisoning("abl").table_attack("Kitty", "cifar10")
    with pytest.raises(ValueError, match="presets: abl, cbd, trap_replace, dst_dbr"):
        paper_poisoning("nad")
    with pytest.raises(ValueError, match="no all-to-all attacks"):
        paper_poisoning("trap_replace").selection(create("badnets-square"))
    assert paper_poisoning("dst_dbr").selection(create("sig")) == "target"
    assert create("sig").label_rule is LabelRule.CLEAN_LABEL
