"""One-way layering: the core imports no method package, a method package imports only the core,
and neither imports TensorFlow (the SSBA tooling's alone).

The imports are read from the source with `ast` (nothing is imported), including literal-string
`importlib.import_module(...)` / `__import__(...)` calls. A violation is reported as
`path:line imports name`.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The import names of the method packages: packages/<name>/src/<import name>/ (docs/architecture.md)
METHOD_PACKAGES = frozenset(path.name for path in ROOT.glob("packages/*/src/*") if path.is_dir())
# One-way layering (docs/architecture.md): a method package may use these besides the stdlib and
# itself.
METHOD_ALLOWED = frozenset({"unpoison", "torch", "torchvision", "numpy", "safetensors", "tqdm"})
DYNAMIC_IMPORTERS = frozenset({"import_module", "__import__"})
# The SSBA encoder tooling's dependencies (reproductions/ssba): training code never imports them.
SSBA_TOOLING_ONLY = frozenset({"tensorflow", "keras", "bchlib"})


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module name) of every absolute import in a Python file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and (name := dynamic_import(node)):
            found.append((node.lineno, name.split(".")[0]))
    return sorted(found)


def dynamic_import(call: ast.Call) -> str | None:
    """The module named by `import_module("x")` / `__import__("x")`, if absolute and literal."""
    func = call.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called not in DYNAMIC_IMPORTERS or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return None if first.value.startswith(".") else first.value
    return None


def back_edges(files: Iterable[Path], allowed: Callable[[str], bool]) -> list[str]:
    """Every import in `files` of a module that `allowed` rejects, as `path:line imports name`."""
    return [
        f"{path}:{line} imports {name}"
        for path in sorted(files)
        for line, name in imported_modules(path)
        if not allowed(name)
    ]


def core_allows(name: str) -> bool:
    """The core may import anything but a method package, the reproductions or TensorFlow."""
    return name not in METHOD_PACKAGES | {"reproductions"} | SSBA_TOOLING_ONLY


def method_allows(own: str) -> Callable[[str], bool]:
    """A method package may import itself, the core, its few third-party libraries and stdlib."""
    return lambda name: name == own or name in METHOD_ALLOWED or name in sys.stdlib_module_names


def method_package_dirs() -> list[Path]:
    """packages/<name>/ for every folder there holding a pyproject.toml."""
    return sorted(path.parent for path in ROOT.glob("packages/*/pyproject.toml"))


def test_core_imports_no_method_package() -> None:
    files = list((ROOT / "shared" / "src").rglob("*.py"))
    assert files, "no Python files found under shared/src"
    edges = back_edges(files, core_allows)
    assert not edges, "the core imports a method package:\n" + "\n".join(edges)


@pytest.mark.parametrize("package", method_package_dirs(), ids=lambda path: path.name)
def test_method_package_imports_only_core(package: Path) -> None:
    source = package / "src" / package.name
    assert (source / "__init__.py").is_file(), f"{source} must be the package's import root"
    edges = back_edges(source.rglob("*.py"), method_allows(package.name))
    assert not edges, f"{package.name} imports outside its layer:\n" + "\n".join(edges)


def test_checker_reports_planted_back_edges(tmp_path: Path) -> None:
    planted = tmp_path / "bad.py"
    planted.write_text(
        "import os\n"
        "import torch.nn\n"
        "from . import sibling\n"
        "from cbd.method import run\n"
        "import reproductions.abl\n"
        "import importlib\n"
        "importlib.import_module('dst_dbr')\n"
        "import sklearn\n"
        "__import__('abl.method')\n"
        "import tensorflow as tf\n",
        encoding="utf-8",
    )
    assert back_edges([planted], core_allows) == [
        f"{planted}:4 imports cbd",
        f"{planted}:5 imports reproductions",
        f"{planted}:7 imports dst_dbr",
        f"{planted}:9 imports abl",
        f"{planted}:10 imports tensorflow",
    ]
    assert back_edges([planted], method_allows("abl")) == [
        f"{planted}:4 imports cbd",
        f"{planted}:5 imports reproductions",
        f"{planted}:7 imports dst_dbr",
        f"{planted}:8 imports sklearn",
        f"{planted}:10 imports tensorflow",
    ]
    assert back_edges([planted], method_allows("cbd")) == [
        f"{planted}:5 imports reproductions",
        f"{planted}:7 imports dst_dbr",
        f"{planted}:8 imports sklearn",
        f"{planted}:9 imports abl",
        f"{planted}:10 imports tensorflow",
    ]
