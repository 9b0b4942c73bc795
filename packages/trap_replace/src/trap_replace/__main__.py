"""``python -m trap_replace``: poison a dataset with one attack, except for its last images, which
the defender keeps aside as a clean holdout, defend it with Trap and Replace, write logs and
results (``unpoison.defenses.cli``; ``--help`` lists the options).

Example::

    python -m trap_replace --dataset digits --attack badnets-grid --mini --out runs/tr/demo
"""

from __future__ import annotations

from collections.abc import Sequence

from unpoison.defenses.cli import exit_on_bad_input
from unpoison.defenses.cli import main as run_defense


def main(argv: Sequence[str] | None = None) -> int:
    return run_defense(argv, ["trap-replace"], "python -m trap_replace")


if __name__ == "__main__":
    exit_on_bad_input(main)
