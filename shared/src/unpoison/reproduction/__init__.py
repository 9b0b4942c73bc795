"""What every ``reproduce-*`` script shares.

A reproduction is a grid of cells, one per (attack row of the paper's table, defense column):
- ``rows``: the attack rows and the paper's own trigger for each;
- ``cells``: one cell, trained once into ``<out>/cells/<key>/`` and read back on the next run;
- ``verdicts``: paper vs ours for one number;
- ``script``: the command line that runs a preset's grid, prints the table with its verdicts and
  writes ``table.json`` and RESULTS.md. A script only describes its paper (``Reproduction``).
"""

from unpoison.reproduction.cells import (
    Cell,
    CellData,
    Defense,
    method_defense,
    no_defense,
    run_cells,
    run_defense_cell,
)
from unpoison.reproduction.rows import AttackRow, paper_row, select_rows
from unpoison.reproduction.script import (
    BASELINE,
    Reproduction,
    add_reproduction_arguments,
    build_rows,
    main,
    make_cell,
    write_results_md,
)
from unpoison.reproduction.verdicts import numeric_verdict, qualitative_verdict

__all__ = [
    "BASELINE",
    "AttackRow",
    "Cell",
    "CellData",
    "Defense",
    "Reproduction",
    "add_reproduction_arguments",
    "build_rows",
    "main",
    "make_cell",
    "method_defense",
    "no_defense",
    "numeric_verdict",
    "paper_row",
    "qualitative_verdict",
    "run_cells",
    "run_defense_cell",
    "select_rows",
    "write_results_md",
]
