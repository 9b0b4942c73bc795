"""The dataset registry: ``load(name, root)`` returns an :class:`ImageDataset` of uint8 tensors.

Each dataset lives in its own module (``digits``, ``torchvision_sets``, ``image_folder``) and
registers a constructor ``(root: Path | None, download: bool, **kw) -> ImageDataset`` here.
"""

from __future__ import annotations

from pathlib import Path

from unpoison.data.split import ImageDataset
from unpoison.registry import Registry

DATASETS: Registry[ImageDataset] = Registry("dataset")


def load(
    name: str, root: str | Path | None = None, download: bool = False, **kw: object
) -> ImageDataset:
    """Load dataset ``name`` into memory as uint8 [N, C, H, W] train/test splits.

    ``root`` is the data folder (not needed by ``digits``). With ``download=True`` the
    torchvision datasets are fetched into ``root``; extra keywords go to the dataset's constructor
    (``imagenet-subset`` takes ``classes`` and ``image_size``).
    """
    constructor = DATASETS.get(name)
    return constructor(root=None if root is None else Path(root), download=download, **kw)


def list_datasets() -> list[str]:
    """The registered dataset names, sorted."""
    return DATASETS.names()


def require_root(name: str, root: Path | None, how_to_get: str) -> Path:
    """``root`` itself, or a FileNotFoundError telling the user to pass one and how to fill it."""
    if root is None:
        raise FileNotFoundError(
            f"dataset {name!r} needs a data folder but root is None: pass root=DIR. {how_to_get}"
        )
    return root
