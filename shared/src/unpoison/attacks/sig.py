"""SIG (Barni et al. 2019): a clean-label attack with a sinusoidal signal, in each paper's variant.

``sig`` follows D-ST's `_sigTrigger` (docs/attacks.md §5.4), also BackdoorBench's default:
vertical stripes ``pattern[col] = delta * sin(2 * pi * col * f / W)``, identical on all rows and
channels, added with saturation: ``uint8(clip(img + pattern, 0, 255))``. The other variants are
T&R's (the blend-strip mask used clean-label), the reference function of the ABL README and
CBD's `_signalTrigger`; docs/attacks.md §5.4 compares them.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from unpoison.attacks.base import Attack, LabelRule, register_attack
from unpoison.attacks.blend import BlendStrip


@register_attack
class Sig(Attack):
    """D-ST's SIG: amplitude ``delta_train`` on training images and ``delta_test`` at test time."""

    name = "sig"
    papers = 'D-ST/D-BR "SIG" (ABL reproduction\'s SIG)'
    default_label_rule = LabelRule.CLEAN_LABEL  # D-ST `target_type=cleanLabel`

    # D-ST `_sigTrigger`: delta = 40 in training and 60 at test, f = 6 (docs/attacks.md §5.4).
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


@register_attack
class SigStripe(BlendStrip):
    """T&R "SIG": the blend-strip mask blended at alpha 0.2, on target-class images (clean-label).

    T&R's `triggers/sig.png` is the ABL/D-ST stripe mask, applied as ``0.8 * img + 0.2 * mask``
    in float, clipped and cast (docs/attacks.md §5.4), i.e. exactly ``blend-strip``.
    """

    name = "sig-stripe"
    papers = 'T&R "SIG"'
    default_label_rule = LabelRule.CLEAN_LABEL  # T&R triggers all target-class training images


class _SigReadme(Attack):
    """The sine blend of the ABL README: ``alpha * img + (1 - alpha) * pattern``, cast to uint8.

    ``pattern[col] = delta * sin(2 * pi * col * f / W)`` is computed in float64 and stored in a
    float32 array; the official ``alpha * uint32(img) + (1 - alpha) * pattern`` multiplies the
    pattern in float32 (a Python float times a float32 array) and the image in float64, and adds
    in float64. We do the same, so the results match numpy bit for bit. Note that ``alpha`` weighs
    the image, not the sine (docs/attacks.md §5.4).
    """

    default_label_rule = LabelRule.CLEAN_LABEL  # SIG is a clean-label attack (Barni et al.)

    def __init__(
        self,
        alpha: float,
        delta: float = 20.0,
        frequency: float = 6.0,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        values = {"alpha": alpha, "delta": delta, "frequency": frequency}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{self.name} {key} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{self.name} {key} must be positive and finite, got {value!r}")
        if alpha >= 1:
            raise ValueError(f"{self.name} alpha (the image weight) must be below 1, got {alpha!r}")
        self.alpha = float(alpha)
        self.delta = float(delta)
        self.frequency = float(frequency)

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "delta": self.delta, "frequency": self.frequency}

    def _blended(self, x: torch.Tensor) -> torch.Tensor:
        """The float64 blend before the uint8 cast."""
        width = x.shape[-1]
        col = torch.arange(width, dtype=torch.float64, device=x.device)
        pattern = (self.delta * torch.sin(2 * math.pi * col * self.frequency / width)).to(
            torch.float32
        )
        weighted = (pattern * (1 - self.alpha)).to(torch.float64)
        return x.to(torch.float64).mul_(self.alpha).add_(weighted)


@register_attack
class SigAbl(_SigReadme):
    """The ABL README's SIG reference: 20 % image + 80 % sine (delta 20, f 6), saturating.

    ``uint8(clip(0.2 * img + 0.8 * pattern, 0, 255))``: the clip comes before the cast, so
    negative values become 0. ABL's own SIG data were pre-generated and their parameters are
    unverified (docs/attacks.md §5.4, §9).
    """

    name = "sig-abl"
    papers = 'ABL "SIG" (the README reference function; the paper\'s parameters are unverified)'

    # ABL README `plant_sin_trigger`: alpha = 0.2, delta = 20, f = 6.
    def __init__(
        self,
        alpha: float = 0.2,
        delta: float = 20.0,
        frequency: float = 6.0,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(alpha, delta, frequency, label_rule)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        return self._blended(x).clamp_(0, 255).floor_().to(torch.uint8)


@register_attack
class SigCbd(_SigReadme):
    """CBD's `_signalTrigger`: 10 % image + 90 % sine (delta 20, f 6), with uint8 wrap-around.

    CBD casts with ``astype('uint8')`` before clipping, so negative values wrap: numpy's float to
    uint8 cast on x86 truncates toward zero and then takes the value modulo 256 (-8.0 -> 248,
    -0.5 -> 0; docs/attacks.md §1.2, §5.4). Whether CBD's tables call this "SIG" or "Blend" is
    unverified.
    """

    name = "sig-cbd"
    papers = 'CBD `signalTrigger` (table name "SIG" or "Blend", unverified)'

    # CBD `_signalTrigger`: alpha = 0.1, delta = 20, f = 6.
    def __init__(
        self,
        alpha: float = 0.1,
        delta: float = 20.0,
        frequency: float = 6.0,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(alpha, delta, frequency, label_rule)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        wrapped = self._blended(x).trunc_().to(torch.int64).remainder_(256)
        return wrapped.to(torch.uint8)


@register_attack
class BlendStripImageNet(SigAbl):
    """D-ST's ImageNet "Blend-Strip" (`_signalTrigger_imagenet`): 80 % image + 20 % sine.

    ``uint8(clip(0.8 * img + 0.2 * pattern, 0, 255))`` with ``pattern = 20 * sin(2 * pi * col *
    6 / W)`` stored in float32: the image is darkened by 20 % with a +-4 ripple (docs/attacks.md
    §5.3). It is the ABL README formula with the weights the other way round, so it shares its
    arithmetic; it is dirty-label. D-ST applies it at the raw image width; we at the stored width.
    """

    name = "blend-strip-imagenet"
    papers = 'D-ST/D-BR ImageNet "Blend-Strip"'
    default_label_rule = LabelRule.ALL_TO_ONE  # D-ST: all2one, target 0

    # D-ST `_signalTrigger_imagenet`: image weight 1 - 0.2, delta = 20, f = 6.
    def __init__(
        self,
        alpha: float = 0.8,
        delta: float = 20.0,
        frequency: float = 6.0,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(alpha, delta, frequency, label_rule)
