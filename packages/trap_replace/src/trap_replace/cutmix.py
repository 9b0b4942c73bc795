"""CutMix as T&R's stage 2 applies it: one box per batch, pasted from a permutation of the batch.

Per batch (code: ``rand_bbox`` with CutMix beta 1 and probability 1, so on every batch):
- lambda ~ Beta(beta, beta); the box's side is ``int(side * sqrt(1 - lambda))`` in each dimension;
- the box's centre is uniform over the image, and the box is clipped at the border;
- the box is copied from ``x[permutation]`` into every image of the batch;
- the kept fraction is recomputed from the clipped box: 1 - box_area / image_area.
The draws come from a numpy generator the caller seeds, so a (seed, epoch) gives the same boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class CutMixBox:
    """One batch's draw: the box rows [top, bottom) and columns [left, right), the permutation."""

    top: int
    bottom: int
    left: int
    right: int
    permutation: torch.Tensor  # int64 [B] on the batch's device

    def kept(self, height: int, width: int) -> float:
        """The fraction of each image that is not pasted over."""
        return 1.0 - (self.bottom - self.top) * (self.right - self.left) / (height * width)


def draw_box(
    batch_size: int, height: int, width: int, beta: float, rng: np.random.Generator, device
) -> CutMixBox:
    """Draw one batch's box and permutation (see the module docstring)."""
    lam = rng.beta(beta, beta)
    ratio = np.sqrt(1.0 - lam)
    box_h, box_w = int(height * ratio), int(width * ratio)
    centre_row, centre_col = rng.integers(height), rng.integers(width)
    top, bottom = np.clip([centre_row - box_h // 2, centre_row + box_h // 2], 0, height)
    left, right = np.clip([centre_col - box_w // 2, centre_col + box_w // 2], 0, width)
    permutation = torch.from_numpy(rng.permutation(batch_size)).to(device)
    return CutMixBox(int(top), int(bottom), int(left), int(right), permutation)


def paste(x: torch.Tensor, box: CutMixBox) -> torch.Tensor:
    """A copy of the batch ``x`` [B, C, H, W] with the box taken from ``x[box.permutation]``."""
    mixed = x.clone()
    rows, cols = slice(box.top, box.bottom), slice(box.left, box.right)
    mixed[:, :, rows, cols] = x[box.permutation][:, :, rows, cols]
    return mixed
