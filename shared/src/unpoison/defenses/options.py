"""A defense's command-line shortcuts to its config fields (``unpoison.defenses.cli``); ``--set
FIELD=VALUE`` reaches every field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConfigOption:
    """A command-line option that sets one config field (``path``, dotted for nested configs):
    to its value, or with ``const`` to that constant when the flag is given."""

    flag: str  # without the leading dashes
    path: str
    help: str = ""
    const: Any = None
    choices: tuple[str, ...] | None = None


def shortcuts(*paths: str) -> tuple[ConfigOption, ...]:
    """``--a-b`` for each field ``a_b`` (``--sd-train-epochs`` for ``sd.train_epochs``)."""
    return tuple(ConfigOption(path.replace(".", "-").replace("_", "-"), path) for path in paths)
