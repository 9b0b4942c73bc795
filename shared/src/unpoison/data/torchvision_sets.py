"""CIFAR-10, CIFAR-100 and GTSRB, read with torchvision into uint8 [N, 3, 32, 32] tensors.

torchvision does the download (``download=True``) and the file checks; we only convert its
arrays. GTSRB images vary in size: each is resized to 32x32 with PIL bilinear once, and the
result is cached as ``<root>/gtsrb/unpoison_<split>_32x32_bilinear.npz`` so later loads skip
decoding.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets as tv

from unpoison.data.datasets import DATASETS, require_root
from unpoison.data.image_folder import resize_to_tensor
from unpoison.data.split import ImageDataset, Split

GTSRB_SIZE = 32  # T&R and CBD resize GTSRB to 32x32 with PIL (docs/evaluation.md §1.3)
# The resize filter (PIL bilinear) is our choice: their code does not pin one.
GTSRB_CLASSES = 43  # GTSRB has 43 sign classes, folders 00000..00042
GTSRB_URL = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
GTSRB_ARCHIVES = {  # torchvision.datasets.GTSRB.download
    "train": ("GTSRB-Training_fixed.zip",),
    "test": ("GTSRB_Final_Test_Images.zip", "GTSRB_Final_Test_GT.zip"),
}


def _cifar(name: str, cls: type[tv.CIFAR10], root: Path | None, download: bool) -> ImageDataset:
    root = require_root(name, root, "With download=True (CLI: --download) it is fetched there.")
    folder = root / cls.base_folder
    how = f"Pass download=True (CLI: --download) to fetch it, or extract {cls.url} into {root}."
    if not download and not folder.is_dir():
        raise FileNotFoundError(f"{name} not found: {folder} does not exist. {how}")
    splits = []
    for train in (True, False):
        try:
            data = cls(str(root), train=train, download=download)
        except RuntimeError as err:  # torchvision's "not found or corrupted" (md5 mismatch)
            raise FileNotFoundError(
                f"{name}: files in {folder} are missing or corrupted "
                f"({err}). Delete the folder, then {how}"
            ) from err
        x = torch.from_numpy(data.data).permute(0, 3, 1, 2).contiguous()
        splits.append(Split(x, torch.tensor(data.targets, dtype=torch.int64)))
    return ImageDataset(name=name, train=splits[0], test=splits[1], classes=tuple(data.classes))


@DATASETS.register("cifar10")
def cifar10(root: Path | None = None, download: bool = False) -> ImageDataset:
    """CIFAR-10: 50 000 train / 10 000 test, 10 classes, from ``root/cifar-10-batches-py``."""
    return _cifar("cifar10", tv.CIFAR10, root, download)


@DATASETS.register("cifar100")
def cifar100(root: Path | None = None, download: bool = False) -> ImageDataset:
    """CIFAR-100 (fine labels): 50 000 train / 10 000 test, from ``root/cifar-100-python``."""
    return _cifar("cifar100", tv.CIFAR100, root, download)


def _gtsrb_split(root: Path, split: str, download: bool) -> Split:
    base = root / "gtsrb"
    cache = base / f"unpoison_{split}_{GTSRB_SIZE}x{GTSRB_SIZE}_bilinear.npz"
    if cache.is_file():
        with np.load(cache) as arrays:
            return Split(torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"]))
    # The paths torchvision.datasets.GTSRB reads.
    needed = [base / "GTSRB" / "Training"]
    if split == "test":
        needed = [base / "GTSRB" / "Final_Test" / "Images", base / "GT-final_test.csv"]
    missing = [str(p) for p in needed if not p.exists()]
    if not download and missing:
        urls = ", ".join(GTSRB_URL + a for a in GTSRB_ARCHIVES[split])
        raise FileNotFoundError(
            f"gtsrb {split} split not found: {', '.join(missing)} missing. Pass download=True "
            f"(CLI: --download), or download {urls} and extract them into {base}."
        )
    data = tv.GTSRB(str(root), split=split, download=download)
    x = torch.empty(len(data), 3, GTSRB_SIZE, GTSRB_SIZE, dtype=torch.uint8)
    y = torch.empty(len(data), dtype=torch.int64)
    for i in range(len(data)):  # one decode per file, unavoidable; cached below
        image, label = data[i]
        x[i], y[i] = resize_to_tensor(image, GTSRB_SIZE), label
    tmp = cache.with_name(cache.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, x=x.numpy(), y=y.numpy())
    os.replace(tmp, cache)
    return Split(x, y)


@DATASETS.register("gtsrb")
def gtsrb(root: Path | None = None, download: bool = False) -> ImageDataset:
    """GTSRB resized to 32x32: 39 209 train / 12 630 test, 43 classes, from ``root/gtsrb``."""
    root = require_root("gtsrb", root, "Pass download=True (CLI: --download) to fetch it there.")
    return ImageDataset(
        name="gtsrb",
        train=_gtsrb_split(root, "train", download),
        test=_gtsrb_split(root, "test", download),
        classes=tuple(str(c) for c in range(GTSRB_CLASSES)),
    )
