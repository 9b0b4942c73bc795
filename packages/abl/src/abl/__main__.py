"""``python -m abl``: ABL on the command line every defense shares (``--help``), e.g.
``python -m abl --mini --attack blend-strip --out runs/abl/demo``."""

from unpoison.defenses.cli import command_line, exit_on_bad_input

main = command_line(["abl"], "python -m abl")

if __name__ == "__main__":
    exit_on_bad_input(main)
