"""The 3x3 additive Trojan patch of ABL/NAD/CBD/D-ST (and T&R's `trojan_3x3`).

The official code loads `trigger/best_square_trigger_cifar10.npz` (key ``x``, float32 [3, 32, 32],
non-zero only at rows/cols 25-27) and adds it to the uint8 image (docs/attacks.md §5.2). The 27
non-zero values are written out below, so no file is needed.
"""

from __future__ import annotations

from typing import Any

import torch

from unpoison.attacks.base import Attack, LabelRule, check_min_size, register_attack

# The non-zero 3x3 block of `best_square_trigger_cifar10.npz` key `x` (byte-identical in ABL, NAD
# and D-ST), as [channel R/G/B, row, col]; each literal is the shortest decimal that parses to the
# stored float32 value (docs/attacks.md §5.2).
TROJAN_PATCH = torch.tensor(
    [
        [
            [207.35342, 175.35564, 29.362396],
            [79.36812, 137.37436, 248.36024],
            [131.36082, 6.3599586, 246.353],
        ],
        [
            [131.35432, 243.35564, 232.36162],
            [8.3677, 0.0, 113.36127],
            [40.36406, 145.36028, 250.35352],
        ],
        [
            [181.34506, 120.353165, 179.3607],
            [126.36305, 32.35473, 146.36028],
            [4.361917, 61.36076, 246.35114],
        ],
    ],
    dtype=torch.float32,
)

# The block sits at rows/cols 25-27 of 32, i.e. 4 pixels in from the bottom and right edges.
_GAP = 4
_SIZE = 3

OVERFLOWS = ("wrap", "saturate")


@register_attack
class Trojan3x3(Attack):
    """Adds the Trojan patch to the 3x3 block 4 pixels in from the bottom-right corner.

    ``overflow="wrap"`` reproduces ABL/NAD/CBD/D-ST, which compute ``(img + x).astype(uint8)`` in
    float32 and clip only afterwards: the cast truncates and sums above 255 wrap modulo 256
    (200 + 207.35 -> 151; docs/attacks.md §1.2). ``overflow="saturate"`` is T&R's float add, clip
    to [0, 255], cast (200 + 207.35 -> 255).
    """

    name = "trojan-3x3"
    papers = 'ABL, CBD, D-ST/D-BR "Trojan"; T&R trojan_3x3 (overflow="saturate")'
    default_label_rule = LabelRule.ALL_TO_ONE  # all-to-one, target 0 in every seed

    def __init__(self, overflow: str = "wrap", label_rule: LabelRule | str | None = None) -> None:
        super().__init__(label_rule)
        if overflow not in OVERFLOWS:
            raise ValueError(
                f"trojan-3x3 overflow must be one of {', '.join(OVERFLOWS)}, got {overflow!r}"
            )
        self.overflow = overflow

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        if channels != TROJAN_PATCH.shape[0]:
            raise ValueError(f"attack {self.name!r} needs 3-channel (RGB) images, got {channels}")
        check_min_size(self.name, height, width, _SIZE + _GAP)

    def _params(self) -> dict[str, Any]:
        return {"overflow": self.overflow}

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        rows = cols = slice(-_SIZE - _GAP, -_GAP)
        # float32 like the official uint8 + float32 numpy sum; all terms are >= 0, so the uint8
        # cast's truncation is a floor.
        total = (x[:, :, rows, cols].to(torch.float32) + TROJAN_PATCH.to(x.device)).floor()
        if self.overflow == "wrap":
            patched = total.to(torch.int32).remainder(256)
        else:
            patched = total.clamp(0, 255)
        out = x.clone()
        out[:, :, rows, cols] = patched.to(torch.uint8)
        return out
