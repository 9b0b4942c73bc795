"""BadNets patch triggers (Gu et al. 2017): a small fixed patch that overwrites pixels.

Both patches are placed relative to the bottom-right corner and write the same value to every
channel, as in the official code (spec attacks.md §2.1). No trigger file is needed.
"""

from __future__ import annotations

from typing import Any

import torch

from unpoison.attacks.base import Attack, LabelRule, check_min_size, register_attack

# The 3x3 grid in the bottom-right corner (rows/cols 29-31 of a 32x32 image), identical in
# ABL/NAD/CBD `_gridTriger`, D-ST `_gridTriger` and T&R `badnet_grid` (spec attacks.md §2.1a).
GRID = torch.tensor(
    [
        [0, 0, 255],
        [0, 255, 0],
        [255, 0, 255],
    ],
    dtype=torch.uint8,
)


@register_attack
class BadNetsGrid(Attack):
    """The black/white 3x3 grid flush with the bottom-right corner (ABL/CBD/D-ST/T&R "BadNets")."""

    name = "badnets-grid"
    papers = 'ABL, CBD, D-ST/D-BR "BadNets"; T&R "BadNet-Grid"'
    default_label_rule = LabelRule.ALL_TO_ONE  # all four papers use it all-to-one

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        check_min_size(self.name, height, width, GRID.shape[0])

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        out = x.clone()
        out[:, :, -3:, -3:] = GRID.to(x.device)
        return out


@register_attack
class BadNetsSquare(Attack):
    """A white ``size``x``size`` square one pixel in from the bottom and right edges.

    With the default size 3 this is D-ST's `_squareTrigger` (rows/cols 28-30 of 32x32), used for
    D-ST "BadNets-all2all" (spec attacks.md §2.1b, §3); size 4 gives T&R's "BadNet-White" (§2.1c).
    """

    name = "badnets-square"
    papers = 'D-ST/D-BR "BadNets-all2all"'
    default_label_rule = LabelRule.ALL_TO_ALL  # D-ST uses this trigger only for all-to-all

    # D-ST: trigger size int(0.1 * 32) = 3, distance 1 from the edges (`_squareTrigger`).
    def __init__(self, size: int = 3, label_rule: LabelRule | str | None = None) -> None:
        super().__init__(label_rule)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"badnets-square size must be a positive int, got {size!r}")
        self.size = size

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        check_min_size(self.name, height, width, self.size + 1)

    def _params(self) -> dict[str, Any]:
        return {"size": self.size}

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        out = x.clone()
        out[:, :, -1 - self.size : -1, -1 - self.size : -1] = 255
        return out
