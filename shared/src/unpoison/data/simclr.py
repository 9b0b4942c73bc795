"""SimCLR augmentation batched on the device, as D-ST's ST module uses it.

docs/methods/dst-dbr.md §3.3 gives the ST module's recipe.

The per-image torchvision pipeline of D-ST's feature extractor and linear head is
``RandomResizedCrop(32, scale=(0.2, 1)), RandomHorizontalFlip(),
RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), RandomGrayscale(p=0.2)`` (then ToTensor
and normalisation, which are not part of this module). Here every image of a batch gets its own
crop box, flip, jitter factors, jitter order and grayscale coin, all drawn at once from a
``torch.Generator`` on the batch's device; the crop, resize and flip are one
``affine_grid``/``grid_sample`` call and the jitter is a fixed number of whole-batch steps. There is
no loop over images and no host synchronisation.

Where this differs from torchvision on PIL images:

- the crop box: 10 candidate (area, log-ratio) pairs are drawn per image at once and the first
  valid one is used, with torchvision's central-crop fallback when none is valid; the same law as
  torchvision's sequential tries, from a different stream of random numbers;
- the resize is bilinear (half-pixel centres, edges clamped to the crop, as ``F.interpolate``
  with ``align_corners=False``) without anti-aliasing: when ``size`` equals the image size the
  crop is never larger than the output, so only upsampling happens and this makes no difference;
- values stay in float: PIL rounds to uint8 after every step;
- grayscale (also the contrast mean and the saturation target) is 0.299 R + 0.587 G + 0.114 B,
  PIL's "L" conversion, without its rounding.

Each image's four jitter steps run in its own random order, as torchvision's ColorJitter does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# How many (area, ratio) candidates torchvision's RandomResizedCrop tries before the central crop.
_CROP_TRIES = 10
# ITU-R 601-2 luma, as PIL's convert("L").
_LUMA = (0.299, 0.587, 0.114)
# Jitter steps, in the order of the factors in SimCLRDraw.jitter.
_BRIGHTNESS, _CONTRAST, _SATURATION, _HUE = range(4)


@dataclass(frozen=True)
class SimCLRDraw:
    """The random choices for one batch of N images; ``None`` where that augmentation is off.

    ``boxes``: float [N, 4], the crop (top, left, height, width) in pixels of the input image.
    ``flip``: bool [N]. ``jitter``: float [N, 4], the (brightness, contrast, saturation) factors
    and the hue shift (identity values 1, 1, 1, 0 for an image the jitter skips or a component
    that is off). ``jitter_order``: int64 [N, 4], each row a permutation of the four steps.
    ``grayscale``: bool [N].
    """

    boxes: torch.Tensor
    flip: torch.Tensor | None
    jitter: torch.Tensor | None
    jitter_order: torch.Tensor | None
    grayscale: torch.Tensor | None


@dataclass(frozen=True)
class SimCLRAugment:
    """RandomResizedCrop, horizontal flip (p = 0.5), ColorJitter with probability ``jitter_p``,
    then grayscale with probability ``grayscale_p``, on float images in [0, 1].

    ``jitter`` is (brightness, contrast, saturation, hue) as in torchvision's ColorJitter: factors
    uniform in [max(0, 1 - v), 1 + v] and a hue shift uniform in [-hue, hue]. ``flip = False``,
    ``jitter_p = 0`` (or all-zero ``jitter``) and ``grayscale_p = 0`` switch those parts off;
    ``scale = ratio = (1, 1)`` with ``size`` equal to the image size makes the crop the identity.
    """

    size: int = 32
    scale: tuple[float, float] = (0.2, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip: bool = True
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    grayscale_p: float = 0.2

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"size must be >= 1, got {self.size}")
        if not 0 < self.scale[0] <= self.scale[1]:
            raise ValueError(f"scale must satisfy 0 < low <= high, got {self.scale}")
        if not 0 < self.ratio[0] <= self.ratio[1]:
            raise ValueError(f"ratio must satisfy 0 < low <= high, got {self.ratio}")
        if len(self.jitter) != 4 or min(self.jitter) < 0 or self.jitter[_HUE] > 0.5:
            raise ValueError(
                f"jitter must be (brightness, contrast, saturation, hue), each >= 0 and "
                f"hue <= 0.5, got {self.jitter}"
            )
        for name in ("jitter_p", "grayscale_p"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")

    @property
    def _jitter_on(self) -> bool:
        return self.jitter_p > 0 and any(v > 0 for v in self.jitter)

    def sample(self, n: int, height: int, width: int, generator: torch.Generator) -> SimCLRDraw:
        """Draw crop boxes, flips, jitter factors and orders, grayscale coins for ``n`` images."""
        kw = {"generator": generator, "device": generator.device}
        boxes = self._sample_boxes(n, height, width, generator)
        flip = jitter = order = gray = None
        if self.flip:
            flip = torch.rand(n, **kw) < 0.5
        if self._jitter_on:
            applied = torch.rand(n, **kw) < self.jitter_p
            u = torch.rand(n, 4, **kw)
            columns = []
            for k, v in enumerate(self.jitter):
                low, high, identity = (-v, v, 0.0) if k == _HUE else (max(0.0, 1 - v), 1 + v, 1.0)
                columns.append(torch.where(applied, low + (high - low) * u[:, k], identity))
            jitter = torch.stack(columns, dim=1)
            order = torch.rand(n, 4, **kw).argsort(dim=1)  # a uniform permutation per image
        if self.grayscale_p > 0:
            gray = torch.rand(n, **kw) < self.grayscale_p
        return SimCLRDraw(boxes, flip, jitter, order, gray)

    def apply(self, x: torch.Tensor, draw: SimCLRDraw) -> torch.Tensor:
        """Augment float images ``x`` [N, 3, H, W] in [0, 1] with the choices in ``draw``.

        Computed in at least float32 (sampling grids need it), returned in ``x``'s dtype.
        """
        dtype = x.dtype
        x = self._crop_resize_flip(x.to(torch.promote_types(dtype, torch.float32)), draw)
        if draw.jitter is not None and draw.jitter_order is not None:
            x = self._color_jitter(x, draw.jitter, draw.jitter_order)
        if draw.grayscale is not None:
            x = torch.where(draw.grayscale[:, None, None, None], _gray(x).expand_as(x), x)
        return x.clamp(0.0, 1.0).to(dtype)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Augment float RGB images ``x`` [N, 3, H, W] in [0, 1]; returns [N, 3, size, size].

        ``generator`` must live on ``x``'s device.
        """
        if not x.is_floating_point() or x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(
                f"expected float RGB images [N, 3, H, W], got {x.dtype} {tuple(x.shape)}"
            )
        n, _, height, width = x.shape
        return self.apply(x, self.sample(n, height, width, generator))

    # ------------------------------------------------------------ crop, resize and flip

    def _sample_boxes(
        self, n: int, height: int, width: int, generator: torch.Generator
    ) -> torch.Tensor:
        kw = {"generator": generator, "device": generator.device}
        area = height * width
        frac = self.scale[0] + (self.scale[1] - self.scale[0]) * torch.rand(n, _CROP_TRIES, **kw)
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = torch.exp(log_lo + (log_hi - log_lo) * torch.rand(n, _CROP_TRIES, **kw))
        w = torch.round(torch.sqrt(area * frac * aspect))
        h = torch.round(torch.sqrt(area * frac / aspect))
        valid = (w > 0) & (w <= width) & (h > 0) & (h <= height)
        first = valid.float().argmax(dim=1, keepdim=True)  # index of the first valid candidate
        w, h = w.gather(1, first)[:, 0], h.gather(1, first)[:, 0]

        # torchvision's fallback: the largest central crop whose ratio is clamped into range.
        fall_h, fall_w = float(height), float(width)
        if width / height < self.ratio[0]:
            fall_h = float(round(width / self.ratio[0]))
        elif width / height > self.ratio[1]:
            fall_w = float(round(height * self.ratio[1]))
        found = valid.any(dim=1)
        h = torch.where(found, h, fall_h)
        w = torch.where(found, w, fall_w)

        # Top-left uniform over the integer positions 0 .. H - h (central for the fallback);
        # min() guards against a float32 product rounding up to the excluded upper end.
        u = torch.rand(n, 2, **kw)
        top = torch.minimum(torch.floor(u[:, 0] * (height - h + 1)), height - h)
        left = torch.minimum(torch.floor(u[:, 1] * (width - w + 1)), width - w)
        top = torch.where(found, top, float((height - int(fall_h)) // 2))
        left = torch.where(found, left, float((width - int(fall_w)) // 2))
        return torch.stack([top, left, h, w], dim=1)

    def _crop_resize_flip(self, x: torch.Tensor, draw: SimCLRDraw) -> torch.Tensor:
        # With align_corners=False the normalised coordinate -1 .. 1 spans the outer pixel edges,
        # so output edge -1 .. 1 maps onto the crop's edges left .. left + w (pixels):
        # x_in = (w / W) * x_out + (2 * left + w) / W - 1, likewise for rows; a flip negates the
        # x scale, mirroring the output about the crop's centre.
        n, channels, height, width = x.shape
        top, left, h, w = draw.boxes.to(x.dtype).unbind(dim=1)
        scale_x = w / width
        if draw.flip is not None:
            scale_x = torch.where(draw.flip, -scale_x, scale_x)
        theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
        theta[:, 0, 0] = scale_x
        theta[:, 0, 2] = (2 * left + w) / width - 1
        theta[:, 1, 1] = h / height
        theta[:, 1, 2] = (2 * top + h) / height - 1
        grid = F.affine_grid(theta, [n, channels, self.size, self.size], align_corners=False)
        # Samples within half a pixel of the crop's edge are clamped to the centres of its edge
        # pixels, as resizing the cut-out crop does (interpolation never reads outside the crop).
        low = torch.stack([(2 * left + 1) / width, (2 * top + 1) / height], dim=1) - 1
        high = torch.stack([(2 * (left + w) - 1) / width, (2 * (top + h) - 1) / height], dim=1) - 1
        grid = torch.maximum(torch.minimum(grid, high[:, None, None]), low[:, None, None])
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    # ------------------------------------------------------------ colour jitter

    def _color_jitter(
        self, x: torch.Tensor, factors: torch.Tensor, order: torch.Tensor
    ) -> torch.Tensor:
        # Four steps; at step k image i applies its step order[i, k]. Brightness, contrast and
        # saturation are all the blend f * x + (1 - f) * target, clamped to [0, 1] as torchvision
        # does after each: target 0, the mean of the image's grayscale, or its grayscale.
        # Images whose step k is a non-zero hue shift take that branch instead; a blend with f = 1
        # (an image the jitter skips, or a component that is off) leaves x exactly as it was.
        for k in range(4):
            step = order[:, k]
            f = torch.where(step != _HUE, factors.gather(1, step[:, None])[:, 0], 1.0)
            f = f.to(x.dtype)[:, None, None, None]
            gray = _gray(x)
            is_contrast = (step == _CONTRAST)[:, None, None, None]
            target = torch.where(is_contrast, gray.mean(dim=(1, 2, 3), keepdim=True), gray)
            target = torch.where((step == _BRIGHTNESS)[:, None, None, None], 0.0, target)
            x_next = (f * x + (1 - f) * target).clamp(0.0, 1.0)
            if self.jitter[_HUE] > 0:
                hue = ((step == _HUE) & (factors[:, _HUE] != 0))[:, None, None, None]
                x_next = torch.where(hue, _shift_hue(x, factors[:, _HUE]), x_next)
            x = x_next
        return x


def _gray(x: torch.Tensor) -> torch.Tensor:
    """Luma 0.299 R + 0.587 G + 0.114 B of [N, 3, H, W] images, as [N, 1, H, W]."""
    r, g, b = x.unbind(dim=1)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b)[:, None]


def _shift_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Add ``shift`` [N] (in turns, so 1/3 is 120 degrees) to the hue of RGB images [N, 3, H, W].

    RGB -> HSV -> RGB, vectorised: value v = max, chroma c = max - min, saturation c / v, hue from
    the sector of the maximum channel; back with channel(n) = v - v s clamp(min(k, 4 - k), 0, 1),
    k = (n + 6 h) mod 6 for n = 5, 3, 1 (R, G, B).
    """
    r, g, b = x.unbind(dim=1)
    v = x.amax(dim=1)
    c = v - x.amin(dim=1)
    safe_c = torch.where(c > 0, c, 1.0)
    sector = torch.where(
        v == r,
        torch.remainder((g - b) / safe_c, 6.0),
        torch.where(v == g, (b - r) / safe_c + 2.0, (r - g) / safe_c + 4.0),
    )
    hue = torch.where(c > 0, sector / 6.0, 0.0)
    s = torch.where(v > 0, c / torch.where(v > 0, v, 1.0), 0.0)
    hue = torch.remainder(hue + shift.to(x.dtype)[:, None, None], 1.0)
    n = torch.arange(5, 0, -2, dtype=x.dtype, device=x.device)[None, :, None, None]  # 5, 3, 1
    k = torch.remainder(n + 6.0 * hue[:, None], 6.0)
    ramp = torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)
    return v[:, None] - (v * s)[:, None] * ramp
