"""What every defense promises, as checks that take the defense by name: it decides from the
images and labels only (never the true poison flags or labels), an unknown model fails before
any checkpoint, and its command line rejects bad input before any training, leaving no
checkpoint behind. ``test_method_contract`` runs them on every installed defense;
``test_toy_defense`` on a defense installed by the test itself."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from unpoison.data.split import PoisonedSplit
from unpoison.defenses import Defense, registry
from unpoison.defenses.cli import main
from unpoison.reproduction.presets import shortened

# (command-line arguments, error, message) that every defense's command line rejects
BAD_INPUT = [
    (["--attack", "nope"], ValueError, "unknown attack 'nope'; valid names: .*badnets-grid"),
    (["--dataset", "nope"], ValueError, "unknown dataset 'nope'; valid names: .*digits"),
    (["--rate", "1.5"], ValueError, r"rate"),
    (["--rate", "0"], ValueError, r"rate"),
    (["--target", "10"], ValueError, r"target"),
    (["--dataset", "cifar10", "--data-root", "MISSING"], FileNotFoundError, "no-data"),
]


def base_config(defense: Defense) -> Any:
    """The defense's digits settings: its ``mini`` variant where it has one."""
    return defense.variants.get("mini", defense.variants["code"])


def with_unknown_models(config: Any) -> Any:
    """``config`` with every ``model`` field, however deep, naming no registered model."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            changes[field.name] = with_unknown_models(value)
        elif field.name == "model":
            changes[field.name] = "nope"
    return replace(config, **changes)


def holdout_of(defense: Defense, poisoned: PoisonedSplit) -> dict[str, Any]:
    """A clean holdout for a defense that assumes one (the test uses clean-labelled images)."""
    return {"holdout": poisoned.subset(torch.arange(128, 192))} if defense.holdout else {}


def check_registration(name: str) -> None:
    defense = registry.get(name)
    assert isinstance(defense, Defense)
    assert defense.name == name
    assert len(set(defense.stages)) == len(defense.stages)
    assert registry.distribution(name)
    for variant, config in defense.variants.items():
        assert defense.config(variant) is config
    with pytest.raises(ValueError, match=f"{name} has no variant 'nope'"):
        defense.config("nope")


def check_training_ignores_the_true_flags_and_labels(name: str, poisoned: PoisonedSplit) -> None:
    defense = registry.get(name)
    small = poisoned.subset(torch.arange(128))
    scrambled = replace(
        small,
        is_poison=torch.randperm(128, generator=torch.Generator().manual_seed(1)) < 64,
        y_true=torch.zeros_like(small.y_true),
    )
    config = shortened(base_config(defense))
    kw = {"num_classes": 10, "config": config, "progress": False, **holdout_of(defense, poisoned)}
    honest, fooled = defense.train(small, **kw), defense.train(scrambled, **kw)
    for key, tensor in honest.model.state_dict().items():
        assert torch.equal(fooled.model.state_dict()[key], tensor), key


def check_an_unknown_model_fails_before_training(
    name: str, poisoned: PoisonedSplit, folder: Path
) -> None:
    defense = registry.get(name)
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        defense.train(
            poisoned,
            num_classes=10,
            config=with_unknown_models(base_config(defense)),
            checkpoint_dir=folder,
            **holdout_of(defense, poisoned),
        )
    assert not (folder.exists() and any(folder.iterdir()))  # no checkpoint written


def check_bad_input_fails_before_training(
    name: str, folder: Path, args: list[str], error: type, message: str
) -> None:
    args = [a.replace("MISSING", str(folder / "no-data")) for a in args]
    out = folder / "run"
    with pytest.raises(error, match=message):
        main([name, "--out", str(out), *args])
    assert not (out / "checkpoints").exists()
