"""Attacks whose trigger comes from networks the attacker trains first (a trigger generator, a
surrogate classifier, ...), and the on-disk cache of those networks.

A learned attack is built like any other (``create(name, **params)``), then ``prepare``-d on the
clean training split: this trains its networks, or loads them from ``cache_dir`` when a run with
the same data, settings, target and seed already trained them. Only then can it ``apply``.
"""

from __future__ import annotations

import json
import os
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import torch
from safetensors.torch import load_file
from torch import nn

from unpoison.atomic import save_tensors_atomic
from unpoison.attacks.base import Attack
from unpoison.attacks.poison import content_hash
from unpoison.data.split import Split

ENV_VAR = "UNPOISON_NETWORKS"
DEFAULT_DIR = Path("~/.cache/unpoison/networks")

# Bump when a learned attack's training changes its output, so stale networks are not reused.
_CACHE_FORMAT = 1


def default_network_cache() -> Path:
    """``$UNPOISON_NETWORKS`` if set, else ``~/.cache/unpoison/networks``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR).expanduser()


class LearnedAttack(Attack):
    """An attack that trains networks on the clean training data before it can trigger images.

    ``training`` names one of the subclass's ``recipes`` (dataclasses of every training setting):
    ``"paper"`` is the paper's setting and ``"mini"`` trains on digits on a CPU in minutes; the
    chosen one is ``self.recipe``. Subclasses build their networks in ``_build_networks`` and train
    them in ``_train_networks``; ``self.networks`` holds them (in eval mode, without gradients)
    after ``prepare``.
    """

    recipes: ClassVar[Mapping[str, Any]]

    def __init__(self, label_rule: str | None = None, training: str = "paper") -> None:
        super().__init__(label_rule)
        if training not in self.recipes:
            raise ValueError(
                f"unknown {self.name} training {training!r}; valid: {', '.join(self.recipes)}"
            )
        self.training = training
        self.recipe = self.recipes[training]
        self._networks: dict[str, nn.Module] | None = None
        self.target: int | None = None  # the target class the networks were prepared for

    def _params(self) -> dict[str, Any]:
        return {"training": self.training}

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
        """Train this attack's networks on ``train`` (clean images), or load them from the cache.

        The cache file is named by a hash of the images, labels, the attack's parameters, its
        training settings, the target, the number of classes and the seed; it is written
        atomically.
        """
        torch.manual_seed(seed)  # the networks' initial weights
        networks = self._build_networks(train.image_shape, num_classes)
        path = None
        if cache_dir is not None:
            key = {
                "format": _CACHE_FORMAT,
                "attack": self.name,
                "params": self.params(),
                "training": asdict(self.recipe),
                "target": target,
                "num_classes": num_classes,
                "seed": seed,
            }
            path = Path(cache_dir) / f"{self.name}-{content_hash(train, key)}.safetensors"
        if path is not None and path.is_file():
            _load_networks(networks, path)
            for net in networks.values():
                net.to(device)
        else:
            for net in networks.values():
                net.to(device)
            self._train_networks(
                networks,
                train.to(device),
                target=target,
                num_classes=num_classes,
                seed=seed,
            )
            if path is not None:
                _save_networks(networks, path)
        for net in networks.values():
            net.eval().requires_grad_(False)
        self._networks = networks
        self.target = target

    @property
    def networks(self) -> dict[str, nn.Module]:
        """The trained networks; a ValueError before ``prepare``."""
        if self._networks is None:
            raise ValueError(
                f"attack {self.name!r} trains networks before it can trigger images: call "
                "prepare(train_split, target=..., num_classes=...) first"
            )
        return self._networks

    @abstractmethod
    def _build_networks(
        self, image_shape: tuple[int, int, int], num_classes: int
    ) -> dict[str, nn.Module]:
        """Freshly initialised networks for images [C, H, W] of ``image_shape``, by name."""

    @abstractmethod
    def _train_networks(
        self,
        networks: dict[str, nn.Module],
        train: Split,
        *,
        target: int,
        num_classes: int,
        seed: int,
    ) -> None:
        """Train ``networks`` in place on the clean split ``train`` (on their device)."""


def _save_networks(networks: dict[str, nn.Module], path: Path) -> None:
    tensors = {
        f"{name}.{key}": value
        for name, net in networks.items()
        for key, value in net.state_dict().items()
    }
    save_tensors_atomic(path, tensors, metadata={"networks": json.dumps(sorted(networks))})


def _load_networks(networks: dict[str, nn.Module], path: Path) -> None:
    tensors = load_file(path)
    for name, net in networks.items():
        prefix = f"{name}."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            net.load_state_dict(state)
        except RuntimeError as error:
            raise ValueError(
                f"cached networks {path} do not fit network {name!r}; delete the file"
            ) from error
