"""One path from poisoning options to the data a defense trains and is evaluated on, used by the
command lines and the reproductions' cells alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from unpoison import attacks, data
from unpoison.attacks import Attack
from unpoison.attacks.learned import default_network_cache
from unpoison.attacks.poison import check_rate, check_selection, check_target
from unpoison.data.holdout import check_holdout_fraction
from unpoison.data.split import ImageDataset, PoisonedSplit, Split
from unpoison.train import seed_everything


@dataclass(frozen=True)
class Poisoning:
    """How the training set is poisoned: which dataset, attack (and its parameters), rate,
    target and selection rule, and the fraction kept aside as the defender's clean holdout (its
    last images, never poisoned; the poison count stays a fraction of the whole set)."""

    dataset: str
    attack: str
    attack_params: Mapping[str, Any] = field(default_factory=dict)
    rate: float = 0.1
    target: int = 0
    selection: str = "all"
    holdout: float | None = None

    def __post_init__(self) -> None:
        check_rate(self.rate)
        check_selection(self.selection)
        if self.holdout:
            check_holdout_fraction(self.holdout)

    def create_attack(self, assets: Path | None = None) -> Attack:
        """The attack (ValueError for an unknown one or bad parameters)."""
        return attacks.create(self.attack, assets=assets, **dict(self.attack_params))

    def record(self, attack: Attack) -> dict[str, Any]:
        """The poisoning as results.json and the run fingerprint state it (the attack with all
        its parameters, defaults included)."""
        record = {
            "dataset": self.dataset,
            "attack": {"name": attack.name, **attack.params()},
            "rate": self.rate,
            "target": self.target,
            "selection": self.selection,
            "holdout": self.holdout or None,
        }
        digest = type(attack).input_digest(**dict(self.attack_params))
        if digest is not None:  # e.g. SSBA's encoded images: their content, not only the path
            record["inputs"] = digest
        return record


@dataclass(frozen=True)
class PoisonedData:
    """A poisoned training split, the defender's clean holdout (or None), the clean test set and
    the triggered test set, all on one device."""

    poisoned: PoisonedSplit
    holdout: Split | None
    test: Split
    backdoor_test: Split
    num_classes: int


def poison_dataset(
    poisoning: Poisoning,
    dataset: ImageDataset,
    attack: Attack,
    seed: int,
    device: torch.device,
) -> PoisonedData:
    """Seed everything with ``seed``, prepare ``attack`` (learned attacks train or load their
    networks), poison ``dataset``'s training split and trigger its test split."""
    check_target(poisoning.target, dataset.num_classes)
    seed_everything(seed)
    attack.prepare(
        dataset.train,
        target=poisoning.target,
        num_classes=dataset.num_classes,
        seed=seed,
        device=device,
        cache_dir=default_network_cache(),
    )
    train, holdout = dataset.train, None
    if poisoning.holdout:
        train, holdout = data.split_holdout(dataset.train, poisoning.holdout)
    poisoned = attacks.poison(
        train,
        attack,
        poisoning.rate,
        poisoning.target,
        seed=seed,
        selection=poisoning.selection,
        num_classes=dataset.num_classes,
        rate_base=None if holdout is None else len(dataset.train),
    )
    backdoor_test = attacks.backdoor_test_set(
        dataset.test, attack, poisoning.target, dataset.num_classes
    )
    return PoisonedData(
        poisoned.to(device),
        None if holdout is None else holdout.to(device),
        dataset.test.to(device),
        backdoor_test.to(device),
        dataset.num_classes,
    )
