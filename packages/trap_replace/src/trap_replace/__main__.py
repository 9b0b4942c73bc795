"""``python -m trap_replace``: Trap and Replace on the command line every defense shares
(``--help``), e.g. ``python -m trap_replace --mini --keep-head --out runs/tr/demo``."""

from unpoison.defenses.cli import command_line, exit_on_bad_input

main = command_line(["trap-replace"], "python -m trap_replace")

if __name__ == "__main__":
    exit_on_bad_input(main)
