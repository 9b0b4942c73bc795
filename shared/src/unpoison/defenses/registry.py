"""The installed defenses, found through the ``unpoison.defenses`` entry points.

A package declares each of its defenses in its ``pyproject.toml``::

    [project.entry-points."unpoison.defenses"]
    abl = "abl.method:DEFENSE"

and nothing else in the project lists them: the command lines, the reproductions and the
contract tests all ask this module.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

from unpoison.defenses.contract import Defense

GROUP = "unpoison.defenses"


@cache
def _installed() -> dict[str, tuple[Defense, str]]:
    """name -> (the defense, the distribution that ships it)."""
    found: dict[str, tuple[Defense, str]] = {}
    for entry in metadata.entry_points(group=GROUP):
        defense = entry.load()
        if not isinstance(defense, Defense):
            raise TypeError(f"entry point {entry.name!r} ({entry.value}) is not a Defense")
        if defense.name != entry.name:
            raise ValueError(f"entry point {entry.name!r} names defense {defense.name!r}")
        if entry.name in found:
            raise ValueError(f"defense {entry.name!r} is registered twice")
        found[entry.name] = (defense, entry.dist.name if entry.dist else "")
    return dict(sorted(found.items()))


def names() -> list[str]:
    """The names of every installed defense, sorted."""
    return list(_installed())


def get(name: str) -> Defense:
    """The installed defense ``name``; ValueError listing the installed ones."""
    if name not in _installed():
        raise ValueError(f"unknown defense {name!r}; installed: {', '.join(names())}")
    return _installed()[name][0]


def distribution(name: str) -> str:
    """The distribution (pip package) that ships defense ``name``, e.g. "unpoison-abl"."""
    get(name)
    return _installed()[name][1]


def refresh() -> None:
    """Forget what was found, so that defenses installed since are seen (tests)."""
    _installed.cache_clear()
