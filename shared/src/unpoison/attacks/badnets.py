"""BadNets patch triggers (Gu et al. 2017): a small fixed patch that overwrites pixels.

Every patch writes the same value to every channel, as in the official code (docs/attacks.md
§5.1). The CIFAR patches sit at the bottom-right corner; the ImageNet ones are described in their
classes. No trigger file is needed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from unpoison.attacks.base import Attack, LabelRule, check_min_size, register_attack

# The 3x3 grid in the bottom-right corner (rows/cols 29-31 of a 32x32 image), identical in
# ABL/NAD/CBD `_gridTriger`, D-ST `_gridTriger` and T&R `badnet_grid` (docs/attacks.md §5.1).
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
    D-ST "BadNets-all2all" (docs/attacks.md §5.1, §6.4); size 4 gives T&R's "BadNet-White".
    """

    name = "badnets-square"
    papers = 'D-ST/D-BR "BadNets-all2all"'
    default_label_rule = LabelRule.ALL_TO_ALL  # D-ST uses this trigger only for all-to-all
    gap: ClassVar[int] = 1  # pixels between the square and the bottom/right edges (`distance`)

    # D-ST: trigger size int(0.1 * 32) = 3, distance 1 from the edges (`_squareTrigger`).
    def __init__(self, size: int = 3, label_rule: LabelRule | str | None = None) -> None:
        super().__init__(label_rule)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"{self.name} size must be a positive int, got {size!r}")
        self.size = size

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        check_min_size(self.name, height, width, self.size + self.gap)

    def _params(self) -> dict[str, Any]:
        return {"size": self.size}

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        height, width = x.shape[-2:]
        rows = slice(height - self.gap - self.size, height - self.gap)
        cols = slice(width - self.gap - self.size, width - self.gap)
        out = x.clone()
        out[:, :, rows, cols] = 255
        return out


@register_attack
class BadNetsWhite(BadNetsSquare):
    """T&R "BadNet-White" (`badnet_sq`): a white 4x4 square at rows/cols 27-30 of 32x32.

    T&R writes 255 to the slice ``32-1-4 : 32-1`` of rows and columns (a 1-pixel gap to the
    bottom/right edges), the same patch as I-BAU's `badnets` with ``pat_size=4`` (docs/attacks.md
    §5.1).
    """

    name = "badnets-white"
    papers = 'T&R "BadNet-White"'
    default_label_rule = LabelRule.ALL_TO_ONE  # T&R attacks all-to-one, target 0

    # T&R `badnet_sq`: side 4 (docs/attacks.md §5.1).
    def __init__(self, size: int = 4, label_rule: LabelRule | str | None = None) -> None:
        super().__init__(size, label_rule)


@register_attack
class BadNetsSquareImageNet(BadNetsSquare):
    """D-ST's ImageNet BadNets (`squareTrigger_imagenet`): a white square flush with the corner.

    D-ST uses ``distance=0`` and side ``int(0.1 * 224) = 22`` (docs/attacks.md §5.1). D-ST
    stamps it on the raw-resolution image before resizing to 224x224, so there the patch ends up
    rescaled; we stamp it on the stored arrays, i.e. at the stored resolution.
    """

    name = "badnets-square-imagenet"
    papers = 'D-ST/D-BR ImageNet "BadNets"'
    default_label_rule = LabelRule.ALL_TO_ONE  # D-ST: all2one, target 0
    gap = 0  # D-ST `distance=0`: flush with the bottom and right edges

    # D-ST: side int(0.1 * 224) = 22 for the nominal 224-pixel input.
    def __init__(self, size: int = 22, label_rule: LabelRule | str | None = None) -> None:
        super().__init__(size, label_rule)


# T&R ImageNet-12 `badnet_grid`: a 3x3 grid of 10x10 blocks covering rows/cols 32-61, values by
# (row block, column block) as written in `datasets/imagenet.py` (docs/attacks.md §5.1). It is
# the CIFAR GRID rotated by 180 degrees.
IMAGENET_GRID = torch.tensor(
    [
        [255, 0, 255],
        [0, 255, 0],
        [255, 0, 0],
    ],
    dtype=torch.uint8,
)
_IMAGENET_BLOCK = 10  # side of each block, in pixels
_IMAGENET_OFFSET = 32  # first row/column of the grid


@register_attack
class BadNetsGridImageNet(Attack):
    """T&R's ImageNet-12 "BadNet-Grid": nine 10x10 blocks at rows/cols 32-61, near the top-left.

    T&R resizes every image to 256x256 and then stamps the grid, so the blocks are 10 pixels wide
    at 256x256. We stamp it on the stored arrays, which must be at least 62 pixels high and wide;
    store them at 256x256 to match T&R.
    """

    name = "badnets-grid-imagenet"
    papers = 'T&R ImageNet-12 "BadNet-Grid"'
    default_label_rule = LabelRule.ALL_TO_ONE  # T&R: all-to-one, target 0

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        check_min_size(self.name, height, width, _IMAGENET_OFFSET + 3 * _IMAGENET_BLOCK)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        blocks = IMAGENET_GRID.to(x.device)
        patch = blocks.repeat_interleave(_IMAGENET_BLOCK, 0).repeat_interleave(_IMAGENET_BLOCK, 1)
        span = slice(_IMAGENET_OFFSET, _IMAGENET_OFFSET + 3 * _IMAGENET_BLOCK)
        out = x.clone()
        out[:, :, span, span] = patch
        return out
