"""``python -m cbd``: poison a dataset with one attack, defend it with CBD, write logs and results
(``unpoison.defenses.cli``; ``--help`` lists the options).

Example::

    python -m cbd --dataset digits --attack badnets-grid --mini --out runs/cbd/demo
"""

from __future__ import annotations

from collections.abc import Sequence

from unpoison.defenses.cli import exit_on_bad_input
from unpoison.defenses.cli import main as run_defense


def main(argv: Sequence[str] | None = None) -> int:
    return run_defense(argv, ["cbd"], "python -m cbd")


if __name__ == "__main__":
    exit_on_bad_input(main)
