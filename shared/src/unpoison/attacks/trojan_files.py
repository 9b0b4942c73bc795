"""T&R's Trojan-SQ and Trojan-WM: 32x32 trigger images added to the image (docs/attacks.md §5.2).

Both are added with saturation (see :mod:`unpoison.attacks.file_trigger`), all-to-one, target 0.
The PNGs are I-BAU's `trojan_sq.png` and `trojan_wm.png` (TrojanNN-style square and
watermark masks, docs/attacks.md §5.2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from unpoison.assets import MANIFEST
from unpoison.attacks.base import Attack, LabelRule, register_attack
from unpoison.attacks.file_trigger import (
    TRIGGER_SIZE,
    AddedTrigger,
    add_saturating,
    read_trigger,
)
from unpoison.attacks.trojan import OVERFLOWS


@register_attack
class TrojanSquare(AddedTrigger):
    """T&R "Trojan-SQ": the optimised 9x9 patch of `trojan_8x8.png` at rows/cols 21-29.

    T&R's code does not say which file its "Trojan-SQ" row uses; `trojan_8x8.png` is byte-identical
    to I-BAU's `trojan_sq.png` and is the most likely reading (unverified, docs/attacks.md §9).
    """

    name = "trojan-sq"
    papers = 'T&R "Trojan-SQ" (read as trojan_8x8.png; unverified)'
    asset_files = ("trap_replace/trojan_8x8.png",)


@register_attack
class TrojanWatermark(Attack):
    """T&R "Trojan-WM": the copyright-watermark trigger of `trojan_wm.png`, on images of any size.

    On 32x32 images the PNG is added as it is. On other sizes it is first resized to the image
    size with PIL's bicubic filter, as T&R's ImageNet-12 code does (`datasets/imagenet.py`:
    ``Image.open(png).resize((256, 256))`` on 256x256 images; bicubic is PIL's default filter for
    RGB images since Pillow 7.0, and resizing to the same size is the identity).

    ``overflow="saturate"`` is T&R's CIFAR/GTSRB arithmetic (float add, clip, cast).
    ``overflow="wrap"`` is its ImageNet-12 arithmetic, which adds the two uint8 arrays in numpy,
    so sums above 255 wrap modulo 256 before the (then useless) clip.
    """

    name = "trojan-wm"
    papers = 'T&R "Trojan-WM" (ImageNet-12: overflow="wrap")'
    default_label_rule = LabelRule.ALL_TO_ONE  # T&R: all-to-one, target 0
    asset_files = ("trap_replace/trojan_wm.png",)

    def __init__(
        self,
        overflow: str = "saturate",
        assets: str | Path | None = None,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        if overflow not in OVERFLOWS:
            raise ValueError(
                f"trojan-wm overflow must be one of {', '.join(OVERFLOWS)}, got {overflow!r}"
            )
        self.overflow = overflow
        self.trigger = read_trigger(self.asset_files[0], assets)
        self._resized: dict[tuple[int, int], torch.Tensor] = {}

    def _params(self) -> dict[str, Any]:
        return {"overflow": self.overflow, "trigger_sha256": MANIFEST[self.asset_files[0]].sha256}

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        if channels != 3:
            raise ValueError(f"attack {self.name!r} needs 3-channel (RGB) images, got {channels}")

    def pattern(self, height: int, width: int) -> torch.Tensor:
        """The trigger at the image size, uint8 [3, height, width] on the CPU."""
        if (height, width) == (TRIGGER_SIZE, TRIGGER_SIZE):
            return self.trigger
        if (height, width) not in self._resized:
            picture = Image.fromarray(np.ascontiguousarray(self.trigger.permute(1, 2, 0).numpy()))
            resized = np.asarray(picture.resize((width, height), Image.Resampling.BICUBIC))
            self._resized[height, width] = torch.from_numpy(resized.copy()).permute(2, 0, 1)
        return self._resized[height, width]

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        trigger = self.pattern(*x.shape[2:])
        if self.overflow == "wrap":
            return x + trigger.to(x.device)  # uint8 + uint8 wraps modulo 256, as in numpy
        return add_saturating(x, trigger)
