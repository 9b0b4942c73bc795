"""`pip install packages/<method>` takes the core from this repository's shared/, not an index,
and so do the noxfile's sessions.

pip's own resolver runs in a fresh virtual environment (no system site packages) with
`--dry-run --report`: it builds the metadata of both local packages and resolves every dependency,
but installs nothing, so torch is resolved from its metadata and not unpacked. An impostor
`unpoison-shared 99.0.0` wheel is offered on an extra find-links folder: a requirement by name
would pick it (highest version); the file:// reference must not.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPOSTOR_VERSION = "99.0.0"


def url_path(url: str) -> Path:
    """The local path of a file:// URL."""
    parsed = urlparse(url)
    assert parsed.scheme == "file", f"expected a file:// URL, got {url}"
    return Path(url2pathname(parsed.path))


def write_impostor_wheel(folder: Path) -> Path:
    """A minimal valid wheel named unpoison-shared, version IMPOSTOR_VERSION, with no code."""
    folder.mkdir()
    dist_info = f"unpoison_shared-{IMPOSTOR_VERSION}.dist-info"
    wheel = folder / f"unpoison_shared-{IMPOSTOR_VERSION}-py3-none-any.whl"
    files = {
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: unpoison-shared\nVersion: {IMPOSTOR_VERSION}\n"
        ),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{dist_info}/RECORD", "".join(f"{name},,\n" for name in files))
    return wheel


def resolve_in_fresh_venv(tmp_path: Path, requirements: list[Path | str], find_links: Path) -> dict:
    """pip's installation report for `pip install <requirements>` in a new, empty venv, run from
    the repository root."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    report = tmp_path / "report.json"
    # The caller's interpreter settings must not leak into the fresh environment.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    command = [str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report)]
    result = subprocess.run(
        [*command, "--find-links", str(find_links), *map(str, requirements)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert result.returncode == 0, f"pip failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return json.loads(report.read_text(encoding="utf-8"))


METHODS = sorted(path.parent.name for path in (ROOT / "packages").glob("*/pyproject.toml"))


def noxfile_core() -> str:
    """The requirement the noxfile's sessions install the core with (its ``CORE``)."""
    for node in ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            getattr(target, "id", None) == "CORE" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("noxfile.py defines no CORE")


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every method package and the noxfile's core requirement resolved together, in one fresh
    venv: each report item by name.

    One resolution instead of one per package: a package whose core reference pointed at the
    index would still pull the impostor, which the core's checks below would see."""
    tmp_path = tmp_path_factory.mktemp("resolve")
    report = resolve_in_fresh_venv(
        tmp_path,
        [noxfile_core(), *(ROOT / "packages" / package for package in METHODS)],
        write_impostor_wheel(tmp_path / "links"),
    )
    return {item["metadata"]["name"].lower(): item for item in report["install"]}


@pytest.mark.slow
@pytest.mark.parametrize("package", METHODS)
def test_method_package_resolves_core_from_local_path(
    resolved: dict[str, dict], package: str
) -> None:
    shared = ROOT / "shared"
    shared_version = tomllib.loads((shared / "pyproject.toml").read_text())["project"]["version"]

    core = resolved["unpoison-shared"]
    assert "dir_info" in core["download_info"], f"core not from a folder: {core['download_info']}"
    assert url_path(core["download_info"]["url"]).samefile(shared)
    assert core["metadata"]["version"] == shared_version != IMPOSTOR_VERSION
    assert core["is_direct"] is True

    distribution = tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())
    requires = resolved[distribution["project"]["name"]]["metadata"]["requires_dist"]
    core_requirements = [r for r in requires if r.startswith("unpoison-shared")]
    assert len(core_requirements) == 1, requires
    name, _, url = core_requirements[0].partition(" @ ")
    assert name == "unpoison-shared"
    assert url.startswith("file://")
    assert url_path(url).samefile(shared)


@pytest.mark.slow
def test_the_noxfile_installs_this_core_not_the_index_package_named_shared(
    resolved: dict[str, dict],
) -> None:
    # A bare "shared" is an unrelated package on PyPI, which pip would install instead.
    assert "shared" not in resolved
    assert url_path(resolved["unpoison-shared"]["download_info"]["url"]).samefile(ROOT / "shared")
