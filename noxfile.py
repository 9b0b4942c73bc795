"""Developer and reproduction sessions: `nox -s tests`, `nox -s lint`, `nox -s reproduce-abl`.

Every session installs what it needs into its own virtual environment under .nox/ and reuses it
on the next run (pip still reinstalls the local packages each time, so edits are picked up).

Torch is pinned in one place, TORCH_SPEC below. Override it with the environment variable
UNPOISON_TORCH_SPEC, whose words are passed to `pip install` as they are:
    UNPOISON_TORCH_SPEC="torch==2.8.0 torchvision==0.23.0" nox -s tests
    UNPOISON_TORCH_SPEC="torch torchvision --index-url https://download.pytorch.org/whl/cu128" ...
    UNPOISON_TORCH_SPEC="" nox -s tests    # no pin: keep a torch already there, else the newest
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"  # the release that added reuse_venv="yes"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "lint"]  # what a bare `nox` runs; reproductions are asked for

ROOT = Path(__file__).parent
# The core's folder as pip must be given it: a bare "shared" is the unrelated PyPI package.
CORE = "./shared"
TORCH_SPEC = "torch==2.14.1 torchvision==0.29.1"  # the release this project is tested with
RUFF = "ruff==0.17.6"  # pinned so that lint verdicts do not change under us
# TensorFlow and bchlib, for the SSBA encoder tooling only; training code never imports them.
SSBA_REQUIREMENTS = "reproductions/ssba/requirements.txt"
QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "2"}  # no oneDNN / CUDA notices on every import


def install_torch(session: nox.Session) -> None:
    """Install the torch build named by UNPOISON_TORCH_SPEC (default TORCH_SPEC), if any."""
    spec = shlex.split(os.environ.get("UNPOISON_TORCH_SPEC", TORCH_SPEC))
    if spec:
        session.install(*spec)


def method_packages() -> list[str]:
    """Every method package: a folder under packages/ holding a pyproject.toml."""
    return sorted(
        path.parent.relative_to(ROOT).as_posix() for path in ROOT.glob("packages/*/pyproject.toml")
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (or the pytest arguments after --) against editable installs."""
    install_torch(session)
    packages = [CORE, *method_packages()]
    # The method packages depend on the core by a file:// reference. pip (23.2, 26.3) refuses
    # `pip install -e shared -e packages/abl` in one call as a conflict between the editable core
    # and that reference, and a later `pip install -e packages/abl` replaces an editable core with
    # a built copy. So: resolve and install everything non-editable first, then swap our own
    # packages for editable installs without touching their dependencies.
    session.install(*packages, "-r", SSBA_REQUIREMENTS, "pytest>=8")
    session.install("--no-deps", *[arg for path in packages for arg in ("-e", path)])
    session.run("pytest", *session.posargs, env=QUIET_TENSORFLOW)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


def reproduction(package: str) -> None:
    """Register `reproduce-<package>` (underscores become hyphens) for reproductions/<package>.

    The session installs the core and every method package (a table's columns may be any
    registered defense) as a user would (`pip install packages/<name>`, not editable: it runs
    what users get, and pip rebuilds local folders on every install, so a reused venv still runs
    the current code), then runs the reproduction script with the arguments after `--` (default
    preset: mini).
    """

    def reproduce(session: nox.Session) -> None:
        install_torch(session)
        session.install(CORE, *method_packages())
        session.run("python", f"reproductions/{package}/reproduce.py", *session.posargs)

    reproduce.__doc__ = (
        f"Reproduce the {package} paper tables: paper vs ours with a verdict per cell "
        "(args after --: --preset mini|paper|..., --data-root DIR, --out DIR; see --help)."
    )
    nox.session(name=f"reproduce-{package.replace('_', '-')}")(reproduce)


@nox.session(name="ssba-encoder")
def ssba_encoder(session: nox.Session) -> None:
    """Train and export the SSBA StegaStamp encoder (TensorFlow) and encode the SSBA poison the
    reproductions read (args after --: --preset mini|paper, --encoder DIR; see --help)."""
    install_torch(session)
    session.install(CORE, "-r", SSBA_REQUIREMENTS)
    session.run(
        "python", "reproductions/ssba/ssba_encoder.py", *session.posargs, env=QUIET_TENSORFLOW
    )


for script in sorted(ROOT.glob("reproductions/*/reproduce.py")):
    reproduction(script.parent.name)
