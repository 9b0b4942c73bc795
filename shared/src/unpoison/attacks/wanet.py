"""WaNet (Nguyen & Tran 2021): a backdoor trigger that is a fixed, smooth warp of the image.

The warping field follows the official code (VinAIResearch/Warping-based_Backdoor_Attack-release
`train.py`; docs/attacks.md §5.7): a random k x k field ``ins ~ U(-1, 1)`` of shape [1, 2, k, k],
divided by ``mean(|ins|)``, upsampled bicubically (align_corners) to H x W; the sampling grid is
``clamp((identity + s * noise / H) * grid_rescale, -1, 1)`` and the image is resampled with
``grid_sample`` (bilinear, zeros padding, align_corners). Official training runs the warp on the
fly and adds "noise" (cross) samples; CBD warps a fixed subset once, offline, with the same grid
for training and test. ``apply`` is CBD's offline warp; ``cross`` is the noise mode, for trainers
that poison on the fly.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from unpoison.attacks.base import (
    Attack,
    LabelRule,
    check_min_size,
    check_raw_batch,
    register_attack,
)

# WaNet `config.py`: the fraction of each training batch that is warped and relabelled (`--pc`),
# and the number of noise (cross) samples per warped sample (`--cross_ratio`, rho_n = pc * 2).
PC = 0.1
CROSS_RATIO = 2

# grid_sample with align_corners needs two sample positions per axis (our choice of limit).
_MIN_SIZE = 2


@register_attack
class WaNet(Attack):
    """The WaNet warp with a warping field drawn from ``seed`` (CBD "WaNet").

    CBD loads the field from a WaNet checkpoint, whose grid was drawn unseeded; we draw it from a
    CPU ``torch.Generator`` seeded with ``seed``, so it is reproducible on every device. The grid
    is built once per image size and cached. The warp runs on ``x / 255`` in float32 (CBD's
    ``ToTensor`` images); CBD keeps the float result, we round it to the nearest uint8 (our
    choice), which changes each value by at most 0.5 / 255. For non-square images the field is
    upsampled to H x W and the offsets are divided by H, as the official code does for its square
    images.
    """

    name = "wanet"
    papers = 'CBD "WaNet"'
    default_label_rule = LabelRule.ALL_TO_ONE  # CBD: all2one, target 0

    # WaNet `config.py`: k = 4, s = 0.5, grid_rescale = 1 (also what CBD's checkpoint implies).
    def __init__(
        self,
        k: int = 4,
        s: float = 0.5,
        grid_rescale: float = 1.0,
        seed: int = 0,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        for key, value, minimum in (("k", k, 1), ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"wanet {key} must be an int >= {minimum}, got {value!r}")
        for key, value in (("s", s), ("grid_rescale", grid_rescale)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"wanet {key} must be a number, got {value!r}")
        if not math.isfinite(s) or s < 0:
            raise ValueError(f"wanet s must be finite and >= 0 (0 is no warp), got {s!r}")
        if not math.isfinite(grid_rescale) or grid_rescale <= 0:
            raise ValueError(f"wanet grid_rescale must be finite and > 0, got {grid_rescale!r}")
        self.k = k
        self.s = float(s)
        self.grid_rescale = float(grid_rescale)
        self.seed = seed
        self._grids: dict[tuple[int, int], torch.Tensor] = {}

    def _params(self) -> dict[str, Any]:
        return {"k": self.k, "s": self.s, "grid_rescale": self.grid_rescale, "seed": self.seed}

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        check_min_size(self.name, height, width, _MIN_SIZE)

    def grid(self, height: int, width: int) -> torch.Tensor:
        """The clamped sampling grid [1, H, W, 2], float32 on the CPU; the last axis is (x, y)."""
        key = (height, width)
        if key not in self._grids:
            generator = torch.Generator().manual_seed(self.seed)
            ins = torch.rand(1, 2, self.k, self.k, generator=generator) * 2 - 1
            ins = ins / torch.mean(torch.abs(ins))
            noise_grid = F.interpolate(
                ins, size=(height, width), mode="bicubic", align_corners=True
            ).permute(0, 2, 3, 1)
            # As in WaNet: meshgrid of the row and column coordinates (ij indexing), stacked as
            # (column, row) because grid_sample reads the last axis as (x, y).
            rows, cols = torch.meshgrid(
                torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij"
            )
            identity_grid = torch.stack((cols, rows), 2)[None]
            grid = (identity_grid + self.s * noise_grid / height) * self.grid_rescale
            self._grids[key] = torch.clamp(grid, -1, 1)
        return self._grids[key]

    def cross(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """WaNet's noise ("cross") samples: the warp plus fresh per-image noise, as uint8.

        Each image gets ``clamp(grid + U(-1, 1) / H, -1, 1)`` with its own noise of shape
        [H, W, 2], drawn from ``generator`` on the generator's device (WaNet `train.py`). The
        caller keeps the true labels of these samples; :data:`PC` and :data:`CROSS_RATIO` give
        how many of them a batch holds.
        """
        check_raw_batch(x, "wanet cross")
        self.check_image_shape(*x.shape[1:])
        n, _, height, width = x.shape
        noise = torch.rand(n, height, width, 2, generator=generator, device=generator.device)
        grid = self.grid(height, width).to(x.device) + (noise.to(x.device) * 2 - 1) / height
        return _warp(x, torch.clamp(grid, -1, 1))

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        grid = self.grid(*x.shape[-2:]).to(x.device)
        return _warp(x, grid.expand(x.shape[0], -1, -1, -1))


def _warp(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """grid_sample of ``x / 255`` (float32) on ``grid`` [N, H, W, 2], rounded back to uint8."""
    warped = F.grid_sample(
        x.to(torch.float32) / 255, grid, mode="bilinear", padding_mode="zeros", align_corners=True
    )
    return warped.mul_(255).round_().clamp_(0, 255).to(torch.uint8)
