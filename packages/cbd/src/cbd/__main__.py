"""``python -m cbd``: CBD on the command line every defense shares (``--help``), e.g.
``python -m cbd --mini --disentangle --out runs/cbd/demo``."""

from unpoison.defenses.cli import command_line, exit_on_bad_input

main = command_line(["cbd"], "python -m cbd")

if __name__ == "__main__":
    exit_on_bad_input(main)
