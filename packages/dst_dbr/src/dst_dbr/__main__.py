"""``python -m dst_dbr d-st|d-br``: D-ST and D-BR on the command line every defense shares
(``d-st --help``), e.g. ``python -m dst_dbr d-br --mini --out runs/dst_dbr/demo``."""

from unpoison.defenses.cli import command_line, exit_on_bad_input

main = command_line(["d-st", "d-br"], "python -m dst_dbr")

if __name__ == "__main__":
    exit_on_bad_input(main)
