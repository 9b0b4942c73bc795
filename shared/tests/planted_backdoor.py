"""The end-to-end check of an attack on digits: an undefended model trained on the poisoned
training split in the mini setting learns the backdoor and keeps its clean accuracy."""

from unpoison import attacks, data
from unpoison.attacks import Attack
from unpoison.data.split import PoisonedSplit
from unpoison.defenses.none import DEFENSE as NONE
from unpoison.train import MINI_NO_DEFENSE

# CA_all of the mini No-defense training on clean digits (seed 0), measured.
CLEAN_MINI_CA = 98.6


def train_on_poisoned_digits(attack: Attack, target: int) -> tuple[PoisonedSplit, dict]:
    """ABL's rule (10% random picks over all images): the poisoned split and the final metrics
    of the mini No-defense training on it."""
    digits = data.load("digits")
    poisoned = attacks.poison(digits.train, attack, 0.1, target, selection="all", num_classes=10)
    backdoor_test = attacks.backdoor_test_set(digits.test, attack, target, 10)
    result = NONE.train(
        poisoned,
        num_classes=10,
        config=MINI_NO_DEFENSE,
        test=digits.test,
        backdoor_test=backdoor_test,
        target=target,
    )
    return poisoned, result.metrics["model"]


def assert_planted(metrics: dict) -> None:
    """ASR >= 80% with CA_all within 5 points of clean training (issue: learned attacks)."""
    assert metrics["asr"] >= 80
    assert metrics["ca_all"] >= CLEAN_MINI_CA - 5
