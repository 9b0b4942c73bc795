"""The attack interface, the label rules and the attack registry.

An attack maps a batch of raw uint8 images [N, C, H, W] to triggered uint8 images. As in all four
official codebases, the trigger is applied to raw pixels, before any normalisation
(docs/attacks.md §1.1). Each attack also carries a label rule: how a poisoned image is relabelled.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch

from unpoison.data.split import Split
from unpoison.registry import Registry

# Our choice: triggers run on chunks of this many images, so that float64 intermediates of a
# whole dataset (CIFAR-10: 1.2 GB) never exist at once; 4096 images are ~100 MB in float64.
_CHUNK = 4096


class LabelRule(StrEnum):
    """How a poisoned training image is relabelled (D-ST `target_type`, docs/attacks.md §2)."""

    ALL_TO_ONE = "all-to-one"  # label := target
    ALL_TO_ALL = "all-to-all"  # label := (y + 1) mod K
    CLEAN_LABEL = "clean-label"  # label unchanged


def _label_rule(value: LabelRule | str) -> LabelRule:
    try:
        return LabelRule(value)
    except ValueError:
        valid = ", ".join(rule.value for rule in LabelRule)
        raise ValueError(f"unknown label rule {value!r}; valid rules: {valid}") from None


class Attack(ABC):
    """A backdoor trigger plus the label rule of the attack.

    Subclasses set ``name``, ``papers`` and ``default_label_rule``, implement ``_apply`` on a
    validated batch, and may add shape requirements in ``check_image_shape`` and parameters in
    ``_params``. An attack that reads third-party trigger files names them in ``asset_files`` and
    takes an ``assets`` argument (the assets folder, see :mod:`unpoison.assets`).
    """

    name: ClassVar[str]
    papers: ClassVar[str]  # which papers use this trigger, and under which table name
    default_label_rule: ClassVar[LabelRule]
    asset_files: ClassVar[tuple[str, ...]] = ()

    def __init__(self, label_rule: LabelRule | str | None = None) -> None:
        self.label_rule = self.default_label_rule if label_rule is None else _label_rule(label_rule)

    def apply(self, x: torch.Tensor, train: bool = True) -> torch.Tensor:
        """Triggered copy of ``x`` (uint8 [N, C, H, W]) on the same device; ``x`` is not modified.

        ``train=False`` gives the test-time trigger, which differs from the training one only where
        the attack says so (SIG).
        """
        check_raw_batch(x, f"attack {self.name!r}")
        self.check_image_shape(*x.shape[1:])
        if x.shape[0] <= _CHUNK:
            return self._apply(x, train)
        return torch.cat([self._apply(chunk, train) for chunk in x.split(_CHUNK)])

    def prepare(
        self,
        train: Split,
        *,
        target: int,
        num_classes: int,
        seed: int = 0,
        device: torch.device | str = "cpu",
        cache_dir: Path | None = None,
    ) -> None:
        """Get ready to trigger images of ``train``'s kind. A fixed trigger needs nothing; an
        attack that trains networks first (``unpoison.attacks.learned``) trains them here."""
        return None

    @classmethod
    def input_digest(cls, **params: Any) -> str | None:
        """A digest of the files this attack would read with ``params``, when their content (not
        only their names) determines the triggers; None for attacks without such files. Run
        caches keyed by the parameters add it, so that a rewritten file is not mistaken for the
        old one."""
        return None

    def poisoned_images(
        self, split: Split, picked: torch.Tensor, target: int, num_classes: int, seed: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The images and labels of ``split`` once the images at the positions ``picked`` (a
        boolean mask) are poisoned: each is triggered and relabelled. An attack that builds its
        poisoned images from several clean ones (the composite attack) overrides this."""
        x, y = split.x.clone(), split.y.clone()
        positions = picked.nonzero().squeeze(1)
        x[positions] = self.apply(split.x[positions], train=True)
        y[positions] = self.poisoned_labels(split.y[positions], target, num_classes)
        return x, y

    def backdoor_test(self, test: Split, target: int, num_classes: int) -> Split:
        """The triggered test set the attack success rate is measured on (docs/evaluation.md §2.2).

        All-to-one and clean-label: every non-target test image with the test-time trigger,
        labelled ``target``. All-to-all: every test image triggered, labelled
        ``(y + 1) mod num_classes``.
        """
        if self.label_rule is LabelRule.ALL_TO_ALL:
            kept = test
            labels = self.poisoned_labels(test.y, target, num_classes)
        else:
            kept = test.subset(test.y != target)
            labels = torch.full_like(kept.y, target)
        if len(kept) == 0:
            raise ValueError(f"the test split has no image whose label is not the target {target}")
        return Split(x=self.apply(kept.x, train=False), y=labels)

    def poisoned_labels(self, y: torch.Tensor, target: int, num_classes: int) -> torch.Tensor:
        """Labels of the poisoned images whose true labels are ``y``, under this attack's rule."""
        if not 0 <= target < num_classes:
            raise ValueError(f"target {target} is outside the label range [0, {num_classes})")
        if self.label_rule is LabelRule.ALL_TO_ONE:
            return torch.full_like(y, target)
        if self.label_rule is LabelRule.ALL_TO_ALL:
            return (y + 1) % num_classes
        return y.clone()

    def params(self) -> dict[str, Any]:
        """The resolved parameters (JSON-serialisable), for cache keys and run records."""
        return {"label_rule": self.label_rule.value, **self._params()}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.params().items())
        return f"{type(self).__name__}({args})"

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        """Raise ValueError when the trigger cannot be applied to images [C, H, W] of this shape.

        The base class accepts any non-empty image; attacks with a patch or a fixed pattern narrow
        this down.
        """
        if min(channels, height, width) < 1:
            raise ValueError(
                f"attack {self.name!r} needs non-empty images, got {(channels, height, width)}"
            )

    def _params(self) -> dict[str, Any]:
        return {}

    @abstractmethod
    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        """Triggered copy of a validated uint8 batch."""


ATTACKS: Registry[Attack] = Registry("attack")

A = TypeVar("A", bound=type[Attack])


def register_attack(cls: A) -> A:
    """Class decorator: register an attack class under its ``name``."""
    ATTACKS.register(cls.name)(cls)
    return cls


def create(name: str, assets: str | Path | None = None, **params: Any) -> Attack:
    """The attack ``name`` with ``params`` (unknown names or parameters raise ValueError).

    ``assets`` is the folder of trigger files; it is passed on only to attacks that read files,
    so callers can give it for every attack.
    """
    cls = ATTACKS.get(name)
    if cls.asset_files:
        params = {"assets": assets, **params}
    accepted = list(inspect.signature(cls).parameters)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"attack {name!r} has no parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted)}"
        )
    return cls(**params)


def list_attacks() -> list[str]:
    """The names of all registered attacks, sorted."""
    return ATTACKS.names()


def check_raw_batch(x: object, who: str) -> None:
    """Raise ValueError unless ``x`` is a uint8 tensor [N, C, H, W] of raw pixels."""
    if not isinstance(x, torch.Tensor) or x.dtype != torch.uint8 or x.ndim != 4:
        got = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{who} needs a uint8 tensor [N, C, H, W] of raw pixels, got {got}")


def check_min_size(name: str, height: int, width: int, minimum: int) -> None:
    """Raise ValueError unless the image is at least ``minimum`` pixels high and wide."""
    if height < minimum or width < minimum:
        raise ValueError(
            f"attack {name!r} needs images of at least {minimum}x{minimum} pixels, "
            f"got {height}x{width}"
        )
