"""``python -m unpoison.defenses --list``, or ``python -m unpoison.defenses NAME [options]``."""

from unpoison.defenses.cli import exit_on_bad_input, main

if __name__ == "__main__":
    exit_on_bad_input(main)
