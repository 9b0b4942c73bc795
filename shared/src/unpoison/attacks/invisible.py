"""T&R's l0-invisible and l2-invisible triggers (I-BAU; Li et al., TDSC 2020; docs/attacks.md §5.6).

Both are 32x32 RGB PNGs optimised under an L0 (few pixels) or L2 (low energy) budget. Trap and
Replace (`datasets/cifar.py`) computes in float64, clips to [0, 255] and casts to uint8; every
value is an integer, so integer arithmetic gives the same bytes. Both are all-to-one, target 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from unpoison.assets import MANIFEST, read_array
from unpoison.attacks.base import Attack, LabelRule, register_attack
from unpoison.attacks.file_trigger import (
    AddedTrigger,
    add_saturating,
    check_rgb_32,
    read_trigger,
)


@register_attack
class L0Invisible(Attack):
    """l0-invisible: the pixels under `mask.npy` are replaced by `l0_inv.png`.

    T&R computes ``img * (1 - mask) + trigger`` with the CHW mask transposed to HWC. The mask holds
    only 0 and 1 (ones at row 31, cols 23-31), so the nine bottom-row pixels become the trigger's
    values (col 23 becomes black) and every other pixel is kept.
    """

    name = "l0-invisible"
    papers = 'T&R "l0-Invisible"'
    default_label_rule = LabelRule.ALL_TO_ONE  # T&R: all-to-one, target 0
    asset_files = ("trap_replace/l0_inv.png", "trap_replace/mask.npy")

    def __init__(
        self, assets: str | Path | None = None, label_rule: LabelRule | str | None = None
    ) -> None:
        super().__init__(label_rule)
        trigger_file, mask_file = self.asset_files
        self.trigger = read_trigger(trigger_file, assets)
        mask = read_array(mask_file, assets)  # float32 [3, 32, 32] of 0 and 1
        self.keep = torch.from_numpy(np.ascontiguousarray(1 - mask)).to(torch.uint8)

    def _params(self) -> dict[str, Any]:
        trigger_file, mask_file = self.asset_files
        return {
            "trigger_sha256": MANIFEST[trigger_file].sha256,
            "mask_sha256": MANIFEST[mask_file].sha256,
        }

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        check_rgb_32(self.name, channels, height, width)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        return add_saturating(x * self.keep.to(x.device), self.trigger)


@register_attack
class L2Invisible(AddedTrigger):
    """l2-invisible: the dense low-amplitude perturbation `l2_inv.png` (values 0-68) is added."""

    name = "l2-invisible"
    papers = 'T&R "l2-Invisible"'
    asset_files = ("trap_replace/l2_inv.png",)
