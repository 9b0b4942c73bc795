"""T&R's Smooth trigger: a low-frequency universal perturbation (Zeng et al. 2021).

The PNG (values 0-51; docs/attacks.md §5.6) is frequency-backdoor's smoothed targeted universal
adversarial perturbation, one per dataset. Trap and Replace (`datasets/cifar.py`) adds it to the
float64 image and then stretches every image back to the full range with `_normalization`:
``(s - min) / (max - min) * 255`` over the image's H, W and C, followed by clip and a truncating
uint8 cast. We compute the same float64 expression in the same order, so the bytes match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from unpoison.assets import MANIFEST
from unpoison.attacks.base import Attack, LabelRule, register_attack
from unpoison.attacks.file_trigger import check_rgb_32, read_trigger

# T&R reads `triggers/smooth_<dataset>.png`; the repository has CIFAR-10 and GTSRB files.
TRIGGER_FILES = {
    "cifar10": "trap_replace/smooth_cifar10.png",
    "gtsrb": "trap_replace/smooth_gtsrb.png",
}


@register_attack
class Smooth(Attack):
    """T&R "Smooth": add the dataset's smooth trigger, then min-max stretch each image to [0, 255].

    ``dataset`` picks the trigger file ("cifar10" or "gtsrb"). An image whose sum with the trigger
    is constant has ``max == min``: T&R divides 0 by 0 and casts the NaN to uint8, which numpy
    turns into 0 on x86; we output 0 there too (our choice of a defined value).
    """

    name = "smooth"
    papers = 'T&R "Smooth"'
    default_label_rule = LabelRule.ALL_TO_ONE  # T&R: all-to-one, target 0
    asset_files = tuple(TRIGGER_FILES.values())

    def __init__(
        self,
        dataset: str = "cifar10",
        assets: str | Path | None = None,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        if dataset not in TRIGGER_FILES:
            raise ValueError(
                f"smooth dataset must be one of {', '.join(TRIGGER_FILES)}, got {dataset!r}"
            )
        self.dataset = dataset
        self.trigger = read_trigger(TRIGGER_FILES[dataset], assets)

    def _params(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "trigger_sha256": MANIFEST[TRIGGER_FILES[self.dataset]].sha256,
        }

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        check_rgb_32(self.name, channels, height, width)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        total = x.to(torch.float64) + self.trigger.to(device=x.device, dtype=torch.float64)
        low = total.amin(dim=(1, 2, 3), keepdim=True)
        high = total.amax(dim=(1, 2, 3), keepdim=True)
        # The sums are integers, so the range is 0 or >= 1; a range of 0 only occurs where
        # total - low is 0 everywhere, and clamping it to 1 turns T&R's 0/0 into 0.
        stretched = (total - low).div_((high - low).clamp_(min=1)).mul_(255)
        return stretched.clamp_(0, 255).to(torch.uint8)
