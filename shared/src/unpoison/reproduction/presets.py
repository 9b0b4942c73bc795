"""The one preset type of every reproduction: a named set of settings for a paper's table."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from unpoison.reproduction.rows import AttackRow


@dataclass(frozen=True)
class Column:
    """A defense column of a paper's table: a registered defense (``python -m unpoison.defenses
    --list``) and the changes this column makes to the preset's config of it (an ablation)."""

    defense: str
    changes: Mapping[str, Any] = field(default_factory=dict)

    def config(self, base: Any) -> Any:
        """The column's config: the preset's ``base`` config of its defense, changed."""
        return replace(base, **self.changes) if self.changes else base


@dataclass(frozen=True)
class Preset:
    """Everything a reproduction run needs besides the data location and the device.

    The defaults are the four papers' shared setting: 10% poisoned, target class 0. ``seed`` 0 is
    our choice. ``precision`` "auto" runs the backbones in bf16 autocast where the device
    computes bf16 natively (``unpoison.models.precision``); the mini presets say "fp32", the
    arithmetic their settings were tuned and measured in.
    """

    name: str  # "mini", "paper", "smoke", ...
    dataset: str
    attacks: tuple[AttackRow, ...]
    configs: Mapping[str, Any]  # defense name -> its config in this preset
    columns: tuple[str, ...]  # the table's columns, in order (names of the reproduction's columns)
    rate: float = 0.1
    target: int = 0
    seed: int = 0
    compare: str = "numeric"  # "numeric": ours vs paper per cell; "qualitative": the claims
    precision: str = "auto"
    holdout: float | None = None  # None: the paper's own holdout fraction
    paper_dataset: str | None = None  # the paper's column, when not the dataset's own table

    def shortened(self, **fields: Any) -> Preset:
        """This preset with one epoch per stage in every config (``shortened``) and ``fields``
        changed: a smoke preset, for tests."""
        configs = {name: shortened(config) for name, config in self.configs.items()}
        return replace(self, configs=configs, **fields)


def shortened(config: Any) -> Any:
    """``config`` with at most one epoch per stage, no warm-up and no lr drops, recursively: every
    int field named ``*epochs`` becomes at most 1, ``warmup*`` 0, ``*milestones`` empty."""
    changes: dict[str, Any] = {}
    for config_field in dataclasses.fields(config):
        name, value = config_field.name, getattr(config, config_field.name)
        if dataclasses.is_dataclass(value):
            changes[name] = shortened(value)
        elif name.startswith("warmup") and isinstance(value, int):
            changes[name] = 0
        elif name.endswith("epochs") and isinstance(value, int):
            changes[name] = min(value, 1)
        elif name.endswith("milestones"):
            changes[name] = ()
    return replace(config, **changes)
