"""Trigger images read from a file and added to the image, as T&R's code does.

Trap and Replace (`datasets/cifar.py`) reads a 32x32 RGB PNG that is zero outside the trigger,
converts image and trigger to float64, adds them, clips to [0, 255] and casts to uint8. All values
are integers, so the same sum in int16 with a clamp gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from unpoison.assets import MANIFEST, read_image
from unpoison.attacks.base import Attack, LabelRule

# The trigger PNGs are 32x32 (CIFAR-10/GTSRB size).
TRIGGER_SIZE = 32


def read_trigger(name: str, assets: str | Path | None) -> torch.Tensor:
    """A verified RGB trigger PNG of the manifest as a uint8 tensor [3, H, W]."""
    return torch.from_numpy(read_image(name, assets)).permute(2, 0, 1).contiguous()


def check_rgb_32(name: str, channels: int, height: int, width: int) -> None:
    """Raise ValueError unless the images are 3 x 32 x 32, the size of T&R's trigger files."""
    if (channels, height, width) != (3, TRIGGER_SIZE, TRIGGER_SIZE):
        raise ValueError(
            f"attack {name!r} adds a 32x32 RGB trigger image and needs images of shape "
            f"(3, 32, 32), got {(channels, height, width)}"
        )


def add_saturating(x: torch.Tensor, trigger: torch.Tensor) -> torch.Tensor:
    """``uint8(clip(x + trigger, 0, 255))`` for uint8 ``x`` and an integer-valued trigger."""
    total = x.to(torch.int16) + trigger.to(device=x.device, dtype=torch.int16)
    return total.clamp_(0, 255).to(torch.uint8)


class AddedTrigger(Attack):
    """Adds the 32x32 RGB trigger image ``asset_files[0]`` with saturation (T&R's arithmetic)."""

    default_label_rule = LabelRule.ALL_TO_ONE  # T&R attacks all-to-one, target 0

    def __init__(
        self, assets: str | Path | None = None, label_rule: LabelRule | str | None = None
    ) -> None:
        super().__init__(label_rule)
        self.trigger = read_trigger(self.asset_files[0], assets)

    def _params(self) -> dict[str, Any]:
        return {"trigger_sha256": MANIFEST[self.asset_files[0]].sha256}

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        check_rgb_32(self.name, channels, height, width)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        return add_saturating(x, self.trigger)
