"""``python -m dst_dbr d-st|d-br``: poison a dataset with one attack, defend it with D-ST or D-BR,
write logs and results (``unpoison.defenses.cli``; ``d-st --help`` lists the options).

Example::

    python -m dst_dbr d-br --dataset digits --attack badnets-grid --mini --out runs/dst_dbr/demo
"""

from __future__ import annotations

from collections.abc import Sequence

from unpoison.defenses.cli import exit_on_bad_input
from unpoison.defenses.cli import main as run_defense


def main(argv: Sequence[str] | None = None) -> int:
    return run_defense(argv, ["d-st", "d-br"], "python -m dst_dbr")


if __name__ == "__main__":
    exit_on_bad_input(main)
