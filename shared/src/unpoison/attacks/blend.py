"""Blend triggers (Chen et al. 2017): new = floor((1 - alpha) * img + alpha * pattern).

Every official blend computes ``(1 - alpha) * img + alpha * pattern`` in float64 numpy and casts to
uint8, which truncates (docs/attacks.md §1.2); all terms are non-negative, so that is a floor. We
compute the same expression in float64 in the same order, so the uint8 results match bit for bit.
The value never leaves [0, 255], so the official clip after the cast has no effect.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from unpoison.attacks.base import Attack, LabelRule, register_attack

# Blend weight of the pattern: alpha = 0.2 in ABL, D-ST and T&R (docs/attacks.md §5.3).
DEFAULT_ALPHA = 0.2


def check_alpha(name: str, alpha: float) -> float:
    """``alpha`` as a float, or a ValueError naming the attack unless it is in (0, 1]."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha <= 1:
        raise ValueError(f"{name} alpha must be a number in (0, 1], got {alpha!r}")
    return float(alpha)


def _blend(x: torch.Tensor, pattern: torch.Tensor, alpha: float) -> torch.Tensor:
    """floor((1 - alpha) * x + alpha * pattern) for uint8 ``x`` and a float64 pattern."""
    # In place, in the official order: ((1 - alpha) * img) + (alpha * pattern).
    blended = x.to(torch.float64).mul_(1 - alpha).add_(alpha * pattern)
    return blended.floor_().to(torch.uint8)


class _Blend(Attack):
    """A blend with a pattern [C or 1, H, W] of values in [0, 255] built for the image size."""

    default_label_rule = LabelRule.ALL_TO_ONE  # every seed blends all-to-one, target 0

    def __init__(
        self, alpha: float = DEFAULT_ALPHA, label_rule: LabelRule | str | None = None
    ) -> None:
        super().__init__(label_rule)
        self.alpha = check_alpha(self.name, alpha)

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    @abstractmethod
    def _pattern(self, channels: int, height: int, width: int) -> torch.Tensor:
        """The pattern as a float64 tensor [C or 1, H, W] on the CPU."""

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        return _blend(x, self._pattern(*x.shape[1:]).to(x.device), self.alpha)


@register_attack
class BlendStrip(_Blend):
    """ABL "Blend" / D-ST "Blend-Strip" (`signalTrigger`), a vertical-stripe mask.

    The official `signal_cifar10_mask.npy` equals ``uint8_wrap(trunc(20 * sin(0.8 * col)))``, the
    same in every row and channel (docs/attacks.md §5.3: a sine stored in uint8 without an offset,
    so negative values wrapped to 237..255). We generate it by that formula for any width.
    """

    name = "blend-strip"
    papers = 'ABL "Blend"; D-ST/D-BR "Blend-Strip"'

    def _pattern(self, channels: int, height: int, width: int) -> torch.Tensor:
        col = torch.arange(width, dtype=torch.float64)
        # Amplitude 20 and 0.8 rad/pixel: the generator of the official mask (docs/attacks.md §5.3).
        wrapped = torch.trunc(20 * torch.sin(0.8 * col)).to(torch.int64).remainder(256)
        return wrapped.to(torch.float64).expand(1, height, width)


@register_attack
class BlendRandom(_Blend):
    """A fixed grey uniform-noise pattern drawn from ``numpy.random.default_rng(seed)``.

    ABL/NAD/CBD `_randomPixelTrigger` blends a grey ``randint(0, 256)`` mask (same on all channels)
    at alpha 0.2 but draws a fresh mask for every image (docs/attacks.md §5.3). Our choice: one
    pattern per seed and image size, so the trigger is a fixed, reproducible pattern.
    """

    name = "blend-random"
    papers = "ABL/CBD random-pixel blend, as one fixed pattern (our choice)"

    def __init__(
        self, seed: int = 0, alpha: float = DEFAULT_ALPHA, label_rule: LabelRule | str | None = None
    ) -> None:
        super().__init__(alpha, label_rule)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"blend-random seed must be a non-negative int, got {seed!r}")
        self.seed = seed

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "seed": self.seed}

    def _pattern(self, channels: int, height: int, width: int) -> torch.Tensor:
        rng = np.random.default_rng(self.seed)
        noise = rng.integers(0, 256, size=(1, height, width), dtype=np.uint8)
        return torch.from_numpy(noise).to(torch.float64)


@register_attack
class BlendNoise(Attack):
    """ABL/NAD/CBD `_randomPixelTrigger`: a fresh grey uniform-noise mask for every image.

    The official code draws ``randint(0, 256)`` of size H x W for each poisoned image (training
    and test alike), repeats it over the channels and computes ``floor(0.8 * img + 0.2 * noise)``
    (docs/attacks.md §5.3); the trigger is thus the noise statistics, not a fixed pattern. The
    official draws are unseeded; ours come from a CPU ``torch.Generator`` seeded from ``seed`` and
    ``train`` at every call, so the same batch always gets the same noise, image i of a call
    gets the i-th mask of that stream, and test-time noise differs from training noise. Which
    table name CBD gives this trigger ("Blend"?) is unverified.
    """

    name = "blend-noise"
    papers = 'ABL/NAD/CBD `randomPixelTrigger` (possibly CBD "Blend", unverified)'
    default_label_rule = LabelRule.ALL_TO_ONE  # the seeds blend all-to-one, target 0

    def __init__(
        self, seed: int = 0, alpha: float = DEFAULT_ALPHA, label_rule: LabelRule | str | None = None
    ) -> None:
        super().__init__(label_rule)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"blend-noise seed must be a non-negative int, got {seed!r}")
        self.seed = seed
        self.alpha = check_alpha(self.name, alpha)
        self._noise_stream: torch.Generator | None = None

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "seed": self.seed}

    def apply(self, x: torch.Tensor, train: bool = True) -> torch.Tensor:
        # One noise stream per call: the chunks of a large batch draw consecutive masks from it,
        # so no two images of a call share a mask.
        self._noise_stream = torch.Generator().manual_seed(2 * self.seed + int(train))
        try:
            return super().apply(x, train)
        finally:
            self._noise_stream = None

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        if self._noise_stream is None:
            raise RuntimeError("blend-noise triggers are drawn only through apply()")
        n, _, height, width = x.shape
        noise = torch.randint(
            0, 256, (n, 1, height, width), dtype=torch.uint8, generator=self._noise_stream
        )
        return _blend(x, noise.to(x.device, torch.float64), self.alpha)


@register_attack
class BlendImage(_Blend):
    """Blend with a given image, e.g. the Hello Kitty picture of D-ST "Blend-Kitty" and T&R "Blend".

    ``image`` is a uint8 tensor or array (H x W, C x H x W or H x W x C) or the path of an image
    file (read as RGB). It must already have the size of the images it is applied to: the
    official codes resize it differently (cv2 bilinear in D-ST, anti-aliased skimage in T&R;
    docs/attacks.md §5.3), so resizing is left to the caller.
    """

    name = "blend-image"
    papers = "any blend image given by the user"

    def __init__(
        self,
        image: torch.Tensor | np.ndarray | str | Path,
        alpha: float = DEFAULT_ALPHA,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(alpha, label_rule)
        self.image = _load_pattern(image)
        self.image_sha256 = hashlib.sha256(self.image.numpy().tobytes()).hexdigest()

    def _params(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "image_sha256": self.image_sha256,
            "image_shape": list(self.image.shape),
        }

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        pattern_channels, pattern_height, pattern_width = self.image.shape
        if (pattern_height, pattern_width) != (height, width) or pattern_channels not in (
            1,
            channels,
        ):
            raise ValueError(
                f"blend-image pattern has shape {tuple(self.image.shape)} (C, H, W) but the "
                f"images are {(channels, height, width)}; resize the pattern to the image size "
                "(and give it 1 or the images' number of channels) before creating the attack"
            )

    def _pattern(self, channels: int, height: int, width: int) -> torch.Tensor:
        return self.image.to(torch.float64)


def _load_pattern(image: torch.Tensor | np.ndarray | str | Path) -> torch.Tensor:
    """A uint8 pattern as a contiguous CPU tensor [C, H, W]."""
    if isinstance(image, str | Path):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"blend-image: no image file at {path}")
        with Image.open(path) as picture:
            rgb = np.asarray(picture.convert("RGB"))
        return torch.from_numpy(rgb.copy()).permute(2, 0, 1).contiguous()
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(np.ascontiguousarray(image))
    if not isinstance(image, torch.Tensor) or image.dtype != torch.uint8:
        got = image.dtype if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"blend-image needs a uint8 image tensor/array or a file path, got {got}")
    image = image.detach().cpu()
    if image.ndim == 2:
        return image.unsqueeze(0).contiguous()
    if image.ndim == 3 and image.shape[0] in (1, 3):
        return image.contiguous()
    if image.ndim == 3 and image.shape[-1] in (1, 3):
        return image.permute(2, 0, 1).contiguous()
    raise ValueError(
        "blend-image needs an image of shape H x W, C x H x W or H x W x C with C in (1, 3), "
        f"got {tuple(image.shape)}"
    )
