"""Run logging: TensorBoard events and a machine-readable ``results.json`` per run."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from unpoison.data.split import PoisonedSplit

PACKAGES_RECORDED = ("torch", "torchvision", "numpy", "unpoison-shared")


class NullLogger:
    """Accepts every logging call and writes nothing (tests, nested runs)."""

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Log one scalar."""

    def scalars(self, values: dict[str, float], step: int, prefix: str = "") -> None:
        """Log several scalars under ``prefix/``."""
        for name, value in values.items():
            self.scalar(f"{prefix}/{name}" if prefix else name, value, step)

    def histogram(self, tag: str, values: torch.Tensor, step: int) -> None:
        """Log a histogram of ``values``."""

    def images(self, tag: str, images: torch.Tensor, step: int) -> None:
        """Log a batch of uint8 [N, C, H, W] images as one grid."""

    def text(self, tag: str, text: str) -> None:
        """Log a block of text (rendered as markdown)."""

    def close(self) -> None:
        """Flush and close."""


class TensorBoardLogger(NullLogger):
    """Writes TensorBoard event files into ``log_dir``."""

    def __init__(self, log_dir: str | Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(log_dir))

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.writer.add_scalar(tag, value, step)

    def histogram(self, tag: str, values: torch.Tensor, step: int) -> None:
        if values.numel() > 0:
            self.writer.add_histogram(tag, values.detach().float().cpu(), step)

    def images(self, tag: str, images: torch.Tensor, step: int) -> None:
        from torchvision.utils import make_grid

        self.writer.add_image(tag, make_grid(images.detach().cpu(), nrow=8), step)

    def text(self, tag: str, text: str) -> None:
        self.writer.add_text(tag, text)

    def hparams(self, hparams: dict[str, Any], metrics: dict[str, float]) -> None:
        """Record the run's hyperparameters beside its final metrics (TensorBoard HPARAMS tab)."""
        flat = {
            k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in hparams.items()
        }
        self.writer.add_hparams(flat, {f"hparam/{k}": v for k, v in metrics.items()}, run_name=".")

    def close(self) -> None:
        self.writer.close()


def log_poison_examples(logger: NullLogger, poisoned: PoisonedSplit, tag: str) -> None:
    """Eight clean and eight poisoned training images under ``tag`` (uses the true poison flags,
    so only for logging)."""
    logger.images(f"{tag}/clean", poisoned.x[~poisoned.is_poison][:8], 0)
    logger.images(f"{tag}/poisoned", poisoned.x[poisoned.is_poison][:8], 0)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that determine a run's numbers."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES_RECORDED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_revision(path: str | Path = ".") -> str | None:
    """The commit of the checkout containing ``path`` (with ``-dirty`` if modified), or None."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write ``data`` as JSON: to a temporary file first, then renamed over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
