"""SIG (Barni et al. 2019): a clean-label attack with an additive sinusoidal signal.

We follow D-ST's `_sigTrigger` (spec attacks.md §2.4a), also BackdoorBench's default: vertical
stripes ``pattern[col] = delta * sin(2 * pi * col * f / W)``, identical on all rows and channels,
added with saturation: ``uint8(clip(img + pattern, 0, 255))``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from unpoison.attacks.base import Attack, LabelRule, register_attack


@register_attack
class Sig(Attack):
    """D-ST's SIG: amplitude ``delta_train`` on training images and ``delta_test`` at test time."""

    name = "sig"
    papers = 'D-ST/D-BR "SIG" (ABL reproduction\'s SIG)'
    default_label_rule = LabelRule.CLEAN_LABEL  # D-ST `target_type=cleanLabel`

    # D-ST `_sigTrigger`: delta = 40 in training and 60 at test, f = 6 (spec attacks.md §2.4a).
    def __init__(
        self,
        delta_train: float = 40.0,
        delta_test: float = 60.0,
        frequency: float = 6.0,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        values = {"delta_train": delta_train, "delta_test": delta_test, "frequency": frequency}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"sig {key} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"sig {key} must be positive and finite, got {value!r}")
        self.delta_train = float(delta_train)
        self.delta_test = float(delta_test)
        self.frequency = float(frequency)

    def _params(self) -> dict[str, Any]:
        return {
            "delta_train": self.delta_train,
            "delta_test": self.delta_test,
            "frequency": self.frequency,
        }

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        width = x.shape[-1]
        delta = self.delta_train if train else self.delta_test
        col = torch.arange(width, dtype=torch.float64, device=x.device)
        # The official code computes the sine in float64, stores it in a float32 array, then adds
        # it to the uint32 image in float64 and truncates. The float32 step is kept for bit-exact
        # results: with f = 6, at col = W/2 the sine of 6*pi is -4.4e-14, so there the official
        # output is img - 1 (100 -> 99), and so is ours.
        pattern = (delta * torch.sin(2 * math.pi * col * self.frequency / width)).to(torch.float32)
        total = x.to(torch.float64).add_(pattern.to(torch.float64))
        return total.clamp_(0, 255).floor_().to(torch.uint8)
