"""The four-corner grid stamps of the label-consistent attacks (CL / LCBA, Turner et al. 2019).

The papers place the 3x3 BadNets grid in all four corners, but in different layouts
(docs/attacks.md §5.5); each function below is one paper's layout. They overwrite the pixels of
every channel of a uint8 batch [N, C, H, W] and return a new tensor on the same device. The
adversarial perturbation that the CL attacks apply before stamping is not part of these
functions.
"""

from __future__ import annotations

import torch

from unpoison.attacks.badnets import GRID
from unpoison.attacks.base import check_min_size, check_raw_batch

# Smallest images on which the four 3x3 blocks do not overlap (our choice): D-ST's inset blocks
# occupy rows/cols 1-3 and H-3..H-1, T&R's flush ones 0-2 and H-3..H-1.
_MIN_SIZE_DST = 7
_MIN_SIZE_FLUSH = 6


def stamp_four_corners_dst(x: torch.Tensor) -> torch.Tensor:
    """D-ST/D-BR "CL" layout (`fourCornerTrigger`; the same in ABL/NAD/CBD's loaders).

    Mirror-symmetric grids, inset by one pixel from the top and left edges and flush with the
    bottom and right edges (on 32x32, docs/attacks.md §5.5):

    - rows 1-3, cols 1-3: the grid rotated by 180 degrees, [255 0 255] [0 255 0] [255 0 0];
    - rows 1-3, cols 29-31: the grid flipped vertically, [255 0 255] [0 255 0] [0 0 255];
    - rows 29-31, cols 1-3: the grid flipped horizontally, [255 0 0] [0 255 0] [255 0 255];
    - rows 29-31, cols 29-31: the grid itself, [0 0 255] [0 255 0] [255 0 255].
    """
    _check_batch(x, "four-corner (D-ST)", _MIN_SIZE_DST)
    grid = GRID.to(x.device)
    out = x.clone()
    out[:, :, 1:4, 1:4] = grid.flip(0, 1)
    out[:, :, 1:4, -3:] = grid.flip(0)
    out[:, :, -3:, 1:4] = grid.flip(1)
    out[:, :, -3:, -3:] = grid
    return out


def stamp_four_corners_flush(x: torch.Tensor) -> torch.Tensor:
    """T&R "LCBA" layout (`--pattern cl`): the grid copied unchanged into all four corners.

    Every block is [0 0 255] [0 255 0] [255 0 255], flush with the edges: rows 0-2 and H-3..H-1
    by cols 0-2 and W-3..W-1 (docs/attacks.md §5.5).
    """
    _check_batch(x, "four-corner (T&R)", _MIN_SIZE_FLUSH)
    grid = GRID.to(x.device)
    out = x.clone()
    for rows in (slice(0, 3), slice(-3, None)):
        for cols in (slice(0, 3), slice(-3, None)):
            out[:, :, rows, cols] = grid
    return out


def _check_batch(x: torch.Tensor, name: str, minimum: int) -> None:
    check_raw_batch(x, name)
    check_min_size(name, x.shape[-2], x.shape[-1], minimum)
