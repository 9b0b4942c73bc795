"""Shared fixtures: the folder of the papers' trigger files, when this machine has one."""

import os
from pathlib import Path

import pytest

# The trigger files are third-party and not part of the repository. Tests that need them read
# UNPOISON_ASSETS, else an ``assets`` folder of a ``shared`` checkout beside this repository.
ASSETS = Path(
    os.environ.get(
        "UNPOISON_ASSETS", Path(__file__).resolve().parents[2].parent / "shared" / "assets"
    )
)


@pytest.fixture
def assets_dir() -> Path:
    """The trigger-file folder; the test is skipped, saying why, when there is none."""
    if not ASSETS.is_dir():
        pytest.skip(f"no trigger-file folder at {ASSETS} (set UNPOISON_ASSETS to run this test)")
    return ASSETS
