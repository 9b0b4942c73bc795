"""Writing tensor files atomically: a temporary file in the same folder, then a rename, so a
killed run never leaves a half-written file under the final name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file


def save_tensors_atomic(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    """Write ``tensors`` (moved to the CPU) as a safetensors file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cpu = {name: value.detach().cpu().contiguous() for name, value in tensors.items()}
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    os.close(handle)
    try:
        save_file(cpu, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
