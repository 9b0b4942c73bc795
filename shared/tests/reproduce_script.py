"""Loading a reproduction script (``reproductions/<name>/reproduce.py``) as a module, for tests."""

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

REPRODUCTIONS = Path(__file__).resolve().parents[2] / "reproductions"


@contextmanager
def reproduce_script(name: str) -> Iterator[ModuleType]:
    """The script of ``reproductions/<name>`` with its own ``presets`` module importable."""
    folder = REPRODUCTIONS / name
    sys.path.insert(0, str(folder))
    sys.modules.pop("presets", None)  # each reproduction has its own presets module
    spec = importlib.util.spec_from_file_location(f"reproduce_{name}", folder / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        yield module
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("presets", None)
