"""``imagenet-subset``: an ImageNet class subset read from an image folder, resized to a square.

Layout (the one torchvision's ``ImageFolder`` and the D-ST/D-BR "sub-imagenet-200" use)::

    root/train/<class>/*.JPEG
    root/val/<class>/*.JPEG

``classes`` picks the class folders (a list of names, or a text file whose lines start with one);
labels follow the sorted folder names, as ``ImageFolder`` numbers them. Every image is resized
straight to ``image_size`` x ``image_size`` (D-ST's ImageNet transform is ``Resize((224, 224))``,
bilinear). Decoding is one pass over the files at load time; nothing is cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.datasets.folder import IMG_EXTENSIONS

from unpoison.data.datasets import DATASETS, require_root
from unpoison.data.split import ImageDataset, Split

IMAGE_SIZE = 224  # D-ST/D-BR ImageNet-200 input size (docs/evaluation.md §1.4)
LAYOUT = "root/train/<class>/*.JPEG and root/val/<class>/*.JPEG"


def resize_to_tensor(image: Image.Image, size: int) -> torch.Tensor:
    """``image`` as RGB, resized to ``size`` x ``size`` with PIL bilinear: uint8 [3, size, size]."""
    rgb = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.array(rgb)).permute(2, 0, 1)


def _read_class_list(classes: Sequence[str] | str | Path | None, train_dir: Path) -> list[str]:
    if classes is None:
        names = sorted(p.name for p in train_dir.iterdir() if p.is_dir())
        if not names:
            raise FileNotFoundError(f"no class folders in {train_dir}; expected layout: {LAYOUT}")
        return names
    if isinstance(classes, str | Path):
        path = Path(classes)
        if not path.is_file():
            raise FileNotFoundError(
                f"class-list file {path} does not exist: give a text file with one class folder "
                "name at the start of each line, or a list of names"
            )
        lines = path.read_text().splitlines()
        classes = [line.split()[0] for line in lines if line.strip()]
    names = list(classes)
    if not names:
        raise ValueError("classes is empty: give at least one class folder name")
    if len(set(names)) != len(names):
        raise ValueError(f"classes lists a folder more than once: {names}")
    return sorted(names)


def image_files(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, sorted; FileNotFoundError when there are none."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMG_EXTENSIONS)
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMG_EXTENSIONS)}) in {folder}")
    return files


def _read_split(split_dir: Path, classes: list[str], size: int) -> Split:
    missing = [str(split_dir / c) for c in classes if not (split_dir / c).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"class folders missing: {', '.join(missing)}; expected layout: {LAYOUT}"
        )
    files = [image_files(split_dir / c) for c in classes]
    y = torch.cat(
        [torch.full((len(f),), label, dtype=torch.int64) for label, f in enumerate(files)]
    )
    x = torch.empty(len(y), 3, size, size, dtype=torch.uint8)
    for i, path in enumerate(p for f in files for p in f):
        with Image.open(path) as image:
            x[i] = resize_to_tensor(image, size)
    return Split(x, y)


@DATASETS.register("imagenet-subset")
def imagenet_subset(
    root: Path | None = None,
    download: bool = False,
    classes: Sequence[str] | str | Path | None = None,
    image_size: int = IMAGE_SIZE,
) -> ImageDataset:
    """The classes ``classes`` (default: every folder in root/train) of an ImageNet folder."""
    if download:
        raise ValueError(
            "imagenet-subset cannot be downloaded: provide the folder yourself "
            f"({LAYOUT}) and call without download=True"
        )
    if image_size < 1:
        raise ValueError(f"image_size must be a positive number of pixels, got {image_size}")
    root = require_root("imagenet-subset", root, f"Expected layout: {LAYOUT}.")
    for split_dir in (root / "train", root / "val"):
        if not split_dir.is_dir():
            raise FileNotFoundError(
                f"imagenet-subset: {split_dir} does not exist; expected layout: {LAYOUT}"
            )
    names = _read_class_list(classes, root / "train")
    return ImageDataset(
        name="imagenet-subset",
        train=_read_split(root / "train", names, image_size),
        test=_read_split(root / "val", names, image_size),
        classes=tuple(names),
    )
