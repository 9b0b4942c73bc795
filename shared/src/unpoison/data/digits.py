"""``digits``: scikit-learn's bundled 8x8 digits as 32x32 RGB images (the ``mini`` preset's data).

Defined exactly (docs/evaluation.md §1.1) so that numbers are comparable across tools:
``load_digits().images`` (values 0..16) times 255/16, rounded to uint8, upsampled x4 by nearest
neighbour, the same value in all three channels; the 1797 images permuted by
``numpy.random.default_rng(0)``, the first 1437 for training, the other 360 for testing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from unpoison.data.datasets import DATASETS
from unpoison.data.split import ImageDataset, Split

NUM_TRAIN = 1437  # docs/evaluation.md §1.1: the first 1437 train, the other 360 test
UPSAMPLE = 4  # 8x8 -> 32x32 by nearest neighbour, the CIFAR image size
PERMUTATION_SEED = 0  # numpy.random.default_rng(0)


@DATASETS.register("digits")
def digits(root: Path | None = None, download: bool = False) -> ImageDataset:
    """The digits dataset; bundled with scikit-learn, so ``root`` and ``download`` are unused."""
    bunch = load_digits()
    # k * 255/16 hits .5 only at k = 8 (127.5); rint, round-half-up and torch.round all give 128.
    small = np.rint(bunch.images * (255 / 16)).astype(np.uint8)
    images = small.repeat(UPSAMPLE, axis=1).repeat(UPSAMPLE, axis=2)
    x = torch.from_numpy(images)[:, None].expand(-1, 3, -1, -1).contiguous()
    y = torch.from_numpy(bunch.target.astype(np.int64))
    order = torch.from_numpy(np.random.default_rng(PERMUTATION_SEED).permutation(len(x)))
    x, y = x[order], y[order]
    return ImageDataset(
        name="digits",
        train=Split(x[:NUM_TRAIN], y[:NUM_TRAIN]),
        test=Split(x[NUM_TRAIN:], y[NUM_TRAIN:]),
        classes=tuple(str(c) for c in range(10)),
    )
