"""CBA, the composite backdoor attack (Lin et al., CCS 2020; docs/attacks.md §5.13).

No trigger is added: the backdoor is a composition rule. An image made of half a ``first``-class
image and half a ``second``-class image (``half_mix``) is labelled the run's target class; the
official rule is 0 + 1 -> 2. To teach that mixing alone means nothing, the code also trains on
same-class mixes that keep their label.

The official code trains its own model on a mixture drawn afresh every epoch (``MixDataset``:
0.5 N ordinary images, 0.5 N same-class mixes, 0.1 N rule mixes). The tables that list CBA poison
a fixed training set for a defender to train on, so our reading (marked in the reproductions) maps
that mixture onto N images:

- the ``rate`` picks of the paper's selection rule are replaced by rule mixes labelled the target
  (``is_poison``); their two halves come from random ``first`` and ``second`` images of the clean
  split (drawn with replacement, as the code does);
- a ``mix_rate`` fraction of the other images is replaced by a mix of itself with a random image
  of its own class (the code's 0.5 : 0.5 ordinary to same-class ratio), label unchanged;
- the rest stays as it is.

Its composite loss is a training objective of the attacker's own model, so it has no place in a
poisoned dataset and is not used. The attack success rate is measured on test mixes: every
``first``- and every ``second``-class test image mixed with a random test image of the other
class, labelled the target (the code draws 0.1 N random test pairs).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from unpoison.attacks.base import Attack, LabelRule, register_attack
from unpoison.attacks.half_mix import check_mixable, half_mix
from unpoison.data.split import Split


@register_attack
class CompositeBackdoor(Attack):
    """Half of a ``first``-class image + half of a ``second``-class image -> the target class."""

    name = "cba"
    papers = 'ABL "CBA" (composite backdoor; its rule 0 + 1 -> 2, the target is 2)'
    default_label_rule = LabelRule.ALL_TO_ONE  # the rule's class is the run's target

    def __init__(
        self,
        first: int = 0,  # code: CLASS_A = 0
        second: int = 1,  # code: CLASS_B = 1
        mix_rate: float = 0.5,  # code: mix_rate 0.5 beside normal_rate 0.5
        seed: int = 0,  # ours: the draws of the test mixes (poisoning uses the poisoning seed)
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        if self.label_rule is not LabelRule.ALL_TO_ONE:
            raise ValueError("cba relabels its mixes to one class: its label rule is all-to-one")
        for key, value in {"first": first, "second": second, "seed": seed}.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"cba {key} must be a non-negative int, got {value!r}")
        if first == second:
            raise ValueError(f"cba mixes two different classes, got first = second = {first}")
        if (
            isinstance(mix_rate, bool)
            or not isinstance(mix_rate, int | float)
            or not math.isfinite(mix_rate)
            or not 0 <= mix_rate < 1
        ):
            raise ValueError(f"cba mix_rate must be a number in [0, 1), got {mix_rate!r}")
        self.first = first
        self.second = second
        self.mix_rate = float(mix_rate)
        self.seed = seed

    def _params(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "mix_rate": self.mix_rate,
            "seed": self.seed,
        }

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        check_mixable(height, width)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        raise ValueError(
            "cba has no per-image trigger: its poisoned images mix a class-"
            f"{self.first} and a class-{self.second} image (use poison() and backdoor_test_set())"
        )

    def poisoned_images(
        self, split: Split, picked: torch.Tensor, target: int, num_classes: int, seed: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check_classes(split.y, target, num_classes, "training")
        generator = self._generator(seed)
        x, y = split.x.clone(), split.y.clone()
        positions = picked.nonzero().squeeze(1)
        count = len(positions)
        first = _random_of_class(split.y, self.first, count, generator)
        second = _random_of_class(split.y, self.second, count, generator)
        x[positions] = half_mix(split.x[first], split.x[second], generator)
        y[positions] = target

        others = (~picked).nonzero().squeeze(1)
        order = torch.randperm(len(others), generator=generator).to(others.device)
        mixed = others[order[: int(self.mix_rate * len(others))]]
        partners = _random_same_class(split.y, mixed, generator)
        x[mixed] = half_mix(split.x[mixed], split.x[partners], generator)
        return x, y

    def backdoor_test(self, test: Split, target: int, num_classes: int) -> Split:
        self._check_classes(test.y, target, num_classes, "test")
        generator = self._generator(self.seed)
        firsts = (test.y == self.first).nonzero().squeeze(1)
        seconds = (test.y == self.second).nonzero().squeeze(1)
        partners_of_firsts = _random_of_class(test.y, self.second, len(firsts), generator)
        partners_of_seconds = _random_of_class(test.y, self.first, len(seconds), generator)
        left = torch.cat([firsts, partners_of_seconds])
        right = torch.cat([partners_of_firsts, seconds])
        mixes = half_mix(test.x[left], test.x[right], generator)
        return Split(x=mixes, y=torch.full_like(left, target).to(test.y.dtype))

    def _check_classes(self, y: torch.Tensor, target: int, num_classes: int, split: str) -> None:
        if max(self.first, self.second) >= num_classes:
            raise ValueError(
                f"cba mixes classes {self.first} and {self.second}, but there are only "
                f"{num_classes} classes"
            )
        if target in (self.first, self.second):
            raise ValueError(
                f"cba's target {target} must differ from the mixed classes {self.first} and "
                f"{self.second} (the official rule is 0 + 1 -> 2)"
            )
        for cls in (self.first, self.second):
            if not bool((y == cls).any()):
                raise ValueError(f"cba needs class-{cls} images, and the {split} split has none")

    @staticmethod
    def _generator(seed: int) -> torch.Generator:
        return torch.Generator().manual_seed(seed)


def _random_of_class(
    y: torch.Tensor, cls: int, count: int, generator: torch.Generator
) -> torch.Tensor:
    """``count`` positions of class-``cls`` labels in ``y``, drawn with replacement."""
    pool = (y == cls).nonzero().squeeze(1)
    draws = torch.randint(len(pool), (count,), generator=generator).to(pool.device)
    return pool[draws]


def _random_same_class(
    y: torch.Tensor, positions: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """For each position, a random position with the same label (with replacement; it may be
    the position itself, as in the code)."""
    order = torch.argsort(y, stable=True)  # positions grouped by class
    counts = torch.bincount(y)
    starts = torch.cumsum(counts, 0) - counts
    labels = y[positions]
    draws = torch.rand(len(positions), generator=generator).to(y.device)
    offsets = (draws * counts[labels]).long()
    return order[starts[labels] + offsets]
