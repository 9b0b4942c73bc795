"""The attack rows of a paper's table and how we poison for each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from unpoison.attacks.paper_presets import PaperPoisoning


@dataclass(frozen=True)
class AttackRow:
    """One attack row of the paper's table and the trigger we plant for it."""

    paper_name: str  # the row's name in the paper's table (a rate table: "<attack> @ <rate>")
    attack: str | None  # our attack registry name; None = not implemented yet
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    rate: float | None = None  # None = the preset's poison rate
    note: str = ""  # where the trigger is our reading of unclear code
    target: int | None = None  # None = the preset's target class

    def target_or(self, preset_target: int) -> int:
        """The row's target class: its own where it has one, else the preset's."""
        return preset_target if self.target is None else self.target

    @property
    def label(self) -> str:
        """The row as printed: the paper's name and, when implemented, our attack's."""
        return self.paper_name if self.attack is None else f"{self.paper_name} ({self.attack})"


def paper_row(
    poisoning: PaperPoisoning, paper_name: str, rate: float | None = None, dataset: str = "cifar10"
) -> AttackRow:
    """Row ``paper_name`` of ``poisoning``'s paper with that paper's own trigger variant
    (docs/attacks.md §6); with ``rate`` the row is named "<paper_name> @ <rate>"."""
    setting = poisoning.table_attack(paper_name, dataset)
    name = paper_name if rate is None else f"{paper_name} @ {rate:.0%}"
    return AttackRow(name, setting.attack, setting.params, rate, setting.note, setting.target)


def select_rows(rows: Sequence[AttackRow], wanted: str | None) -> tuple[AttackRow, ...]:
    """The rows named in the comma-separated ``wanted``, in that order."""
    if not wanted:
        return tuple(rows)
    names = [name.strip() for name in wanted.split(",")]
    known = {row.paper_name: row for row in rows}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown attack rows {unknown}; this preset has {sorted(known)}")
    return tuple(known[name] for name in names)
