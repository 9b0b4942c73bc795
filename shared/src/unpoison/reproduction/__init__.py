"""What every ``reproduce-*`` script shares.

A reproduction is a grid of cells, one per (attack row of the paper's table, defense column):
- ``presets``: the one preset type, and a column (a registered defense, maybe changed);
- ``rows``: the attack rows and the paper's own trigger for each;
- ``cells``: one cell, trained once into ``<out>/cells/<key>/`` and read back on the next run;
- ``verdicts``: paper vs ours for one number;
- ``script``: the command line that runs a preset's grid, prints the table with its verdicts and
  writes ``table.json`` and RESULTS.md. A script only describes its paper (``Reproduction``).
"""

from unpoison.reproduction.cells import Cell, read_cell, run_cells
from unpoison.reproduction.presets import Column, Preset
from unpoison.reproduction.rows import AttackRow, paper_row, select_rows
from unpoison.reproduction.script import (
    BASELINE,
    Reproduction,
    add_reproduction_arguments,
    build_rows,
    cell_run,
    main,
    make_cell,
    write_results_md,
)
from unpoison.reproduction.verdicts import numeric_verdict, qualitative_verdict

__all__ = [
    "BASELINE",
    "AttackRow",
    "Cell",
    "Column",
    "Preset",
    "Reproduction",
    "add_reproduction_arguments",
    "build_rows",
    "cell_run",
    "main",
    "make_cell",
    "numeric_verdict",
    "paper_row",
    "qualitative_verdict",
    "read_cell",
    "run_cells",
    "select_rows",
    "write_results_md",
]
