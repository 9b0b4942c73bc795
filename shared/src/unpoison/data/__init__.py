"""Datasets as uint8 tensors, the device-resident loader and batched augmentation."""

from unpoison.data import digits, image_folder, torchvision_sets  # noqa: F401  (register datasets)
from unpoison.data.augment import ABL_AUGMENT, NO_AUGMENT, Augment
from unpoison.data.datasets import list_datasets, load
from unpoison.data.holdout import split_holdout
from unpoison.data.loader import DeviceLoader
from unpoison.data.rotate_translate import RotateTranslate, rotate_translate
from unpoison.data.simclr import SimCLRAugment
from unpoison.data.split import ImageDataset, PoisonedSplit, Split

__all__ = [
    "ABL_AUGMENT",
    "NO_AUGMENT",
    "Augment",
    "DeviceLoader",
    "ImageDataset",
    "PoisonedSplit",
    "RotateTranslate",
    "SimCLRAugment",
    "Split",
    "list_datasets",
    "load",
    "rotate_translate",
    "split_holdout",
]
