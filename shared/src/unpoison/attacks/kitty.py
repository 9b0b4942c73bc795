"""Blends with a picture from a trigger file: Hello Kitty (D-ST, T&R) and ABL's ImageNet noise.

The Hello Kitty PNG (540x540 RGB) is the same file in D-ST (`trigger/hello_kitty.png`) and T&R
(`triggers/blend.png`), but each code shrinks it to the image size differently (docs/attacks.md
§5.3), which gives different thumbnails:

* D-ST `kittyTrigger`: ``matplotlib.image.imread`` (float32 ``u8 / 255``) times 255, then
  ``cv2.resize`` with its default INTER_LINEAR on the float32 array (no anti-aliasing), then
  ``floor(0.8 * img + 0.2 * kitty)`` with the non-integer float32 kitty.
* T&R `datasets/cifar.py`: ``skimage.transform.resize`` (Gaussian anti-aliasing before linear
  interpolation), ``img_as_ubyte``, then ``0.8 * img + 0.2 * kitty`` in float64, clip, uint8.
* T&R `datasets/imagenet.py`: ``Image.open(png).resize((256, 256))`` (PIL's default bicubic) and
  ``PIL.Image.blend(img, kitty, 0.2)`` on 256x256 images.

The cv2 and scikit-image resizes are re-implemented here without those libraries, operation for
operation, and were checked bit for bit against them (see ``cv2_linear_resize`` and
``skimage_resize_ubyte``); PIL is used as it is. Every blend is all-to-one, target 0, alpha 0.2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from unpoison.assets import MANIFEST, read_array, read_image
from unpoison.attacks.base import Attack, LabelRule, register_attack
from unpoison.attacks.blend import DEFAULT_ALPHA, _Blend, check_alpha

DST_KITTY = "effective/hello_kitty.png"
TR_KITTY = "trap_replace/blend.png"  # byte-identical to DST_KITTY
ABL_IMAGENET_NOISE = "abl/ImageNet_blend_mask.npy"

# resize variant -> the file its official code reads
RESIZES = {"bilinear": DST_KITTY, "antialias": TR_KITTY}


def cv2_linear_resize(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``cv2.resize(image, (width, height))`` with INTER_LINEAR for a float32 image [C, H, W].

    OpenCV's generic path (`resize.cpp`): per axis, the source position ``(d + 0.5) * scale - 0.5``
    is computed in double with ``scale = 1 / (out / in)`` and rounded to float32; its floor is the
    first tap and ``1 - f, f`` (float32) the weights, clamped to the edge pixel outside the image.
    Each row is interpolated horizontally, then the result vertically, as ``a * w0 + b * w1`` in
    float32. On the Hello Kitty picture this equals cv2 4.10 and 5.0 bit for bit at every size
    tried (8 to 1024 pixels) with their Intel IPP backend off, and with IPP (the pip default) at
    sizes whose scale is a short binary fraction, such as 32x32 (540 / 32 = 16.875); at other
    sizes IPP computes the positions more precisely and differs by up to 0.0055.
    """
    columns = _cv2_taps(image.shape[2], width)
    rows = _cv2_taps(image.shape[1], height)
    horizontal = image[:, :, columns[0]] * columns[2] + image[:, :, columns[1]] * columns[3]
    top, bottom = horizontal[:, rows[0]], horizontal[:, rows[1]]
    return top * rows[2][:, None] + bottom * rows[3][:, None]


def _cv2_taps(size: int, out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """First and second source index and their float32 weights, as OpenCV computes them."""
    scale = 1.0 / (out / size)
    position = ((torch.arange(out, dtype=torch.float64) + 0.5) * scale - 0.5).to(torch.float32)
    first = position.floor()
    fraction = position - first
    first = first.to(torch.int64)
    outside = (first < 0) | (first >= size - 1)
    fraction[outside] = 0
    first = first.clamp(0, size - 1)
    second = (first + 1).clamp(max=size - 1)
    return first, second, 1 - fraction, fraction


def skimage_resize_ubyte(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``img_as_ubyte(skimage.transform.resize(image, (height, width)))`` for uint8 [H, W, C].

    scikit-image's defaults (`transform/_warps.py`): the image becomes float64 ``u8 * (1 / 255)``;
    when an axis shrinks, a Gaussian of sigma ``max(0, (factor - 1) / 2)`` per axis (factor =
    in / out, 1 on the channel axis) smooths it with ``mode="mirror"`` (numpy's "reflect"); then
    ``scipy.ndimage.zoom`` with order 1, ``grid_mode=True``; the result is clipped to the input's
    range. ``img_as_ubyte`` rounds half to even: ``rint(x * 255)``.
    """
    as_float = np.multiply(image, 1.0 / 255, dtype=np.float64)
    factors = np.divide(as_float.shape, (height, width, as_float.shape[2]))
    filtered = as_float
    if np.any(factors > 1):
        sigma = np.maximum(0, (factors - 1) / 2)
        filtered = ndimage.gaussian_filter(as_float, sigma, cval=0, mode="mirror")
    zoomed = ndimage.zoom(filtered, 1 / factors, order=1, mode="mirror", cval=0, grid_mode=True)
    zoomed = np.clip(zoomed, as_float.min(), as_float.max())
    return np.clip(np.rint(zoomed * 255), 0, 255).astype(np.uint8)


def _check_rgb(name: str, channels: int) -> None:
    if channels != 3:
        raise ValueError(f"attack {name!r} blends an RGB picture and needs 3-channel images")


@register_attack
class BlendKitty(Attack):
    """Hello Kitty blended at alpha 0.2, shrunk to the image size as D-ST or T&R does.

    ``resize="bilinear"`` is D-ST "Blend-Kitty" (cv2, reads `effective/hello_kitty.png`);
    ``resize="antialias"`` is T&R's CIFAR-10/GTSRB "Blend" (scikit-image, reads
    `trap_replace/blend.png`). Only the variant's file is read. The default is D-ST's, the only
    paper that calls this trigger "Blend-Kitty".
    """

    name = "blend-kitty"
    papers = 'D-ST/D-BR "Blend-Kitty" (resize="bilinear"); T&R "Blend" (resize="antialias")'
    default_label_rule = LabelRule.ALL_TO_ONE  # D-ST and T&R: all-to-one, target 0
    asset_files = (DST_KITTY, TR_KITTY)

    def __init__(
        self,
        resize: str = "bilinear",
        alpha: float = DEFAULT_ALPHA,
        assets: str | Path | None = None,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        if resize not in RESIZES:
            raise ValueError(
                f"blend-kitty resize must be one of {', '.join(RESIZES)}, got {resize!r}"
            )
        self.resize = resize
        self.alpha = check_alpha(self.name, alpha)
        self.picture = read_image(RESIZES[resize], assets)  # uint8 [540, 540, 3]
        self._terms: dict[tuple[int, int], torch.Tensor] = {}

    def _params(self) -> dict[str, Any]:
        return {
            "resize": self.resize,
            "alpha": self.alpha,
            "image_sha256": MANIFEST[RESIZES[self.resize]].sha256,
        }

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        _check_rgb(self.name, channels)

    def thumbnail(self, height: int, width: int) -> torch.Tensor:
        """The picture at the image size, [3, height, width]: float32 (bilinear) or uint8."""
        if self.resize == "bilinear":
            # matplotlib's imread gives float32 u8 / 255; D-ST multiplies it by 255 again.
            kitty = torch.from_numpy(self.picture).permute(2, 0, 1).to(torch.float32)
            return cv2_linear_resize(kitty.div(255).mul(255), height, width)
        thumbnail = skimage_resize_ubyte(self.picture, height, width)
        return torch.from_numpy(thumbnail).permute(2, 0, 1).contiguous()

    def blend_term(self, height: int, width: int) -> torch.Tensor:
        """``alpha * thumbnail`` in float64 [3, height, width], computed as the official code does.

        D-ST multiplies the float32 thumbnail by the Python float alpha, which numpy does in
        float32; T&R multiplies a float64 copy of the uint8 thumbnail.
        """
        if (height, width) not in self._terms:
            thumbnail = self.thumbnail(height, width)
            if self.resize == "bilinear":
                alpha32 = torch.tensor(self.alpha, dtype=torch.float32)
                term = (alpha32 * thumbnail).to(torch.float64)
            else:
                term = self.alpha * thumbnail.to(torch.float64)
            self._terms[height, width] = term
        return self._terms[height, width]

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        term = self.blend_term(*x.shape[2:]).to(x.device)
        # (1 - alpha) * img + term in float64, then the truncating uint8 cast (a floor here).
        blended = x.to(torch.float64).mul_(1 - self.alpha).add_(term)
        return blended.floor_().to(torch.uint8)


@register_attack
class BlendKittyImageNet(Attack):
    """T&R's ImageNet-12 "Blend": ``PIL.Image.blend(img, kitty, 0.2)`` with a bicubic kitty.

    The picture is resized to the image size with PIL's bicubic filter (T&R calls ``resize`` with
    the default filter, bicubic for RGB since Pillow 7.0; T&R's images are 256x256). PIL's blend
    (`libImaging/Blend.c`) computes ``in1 + alpha * (in2 - in1)`` in float32 and truncates.
    """

    name = "blend-kitty-imagenet"
    papers = 'T&R "Blend" on ImageNet-12'
    default_label_rule = LabelRule.ALL_TO_ONE  # T&R: all-to-one, target 0
    asset_files = (TR_KITTY,)

    def __init__(
        self,
        alpha: float = DEFAULT_ALPHA,
        assets: str | Path | None = None,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        self.alpha = check_alpha(self.name, alpha)
        self.picture = read_image(self.asset_files[0], assets)
        self._thumbnails: dict[tuple[int, int], torch.Tensor] = {}

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "image_sha256": MANIFEST[self.asset_files[0]].sha256}

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        _check_rgb(self.name, channels)

    def thumbnail(self, height: int, width: int) -> torch.Tensor:
        """The picture resized with PIL's bicubic filter, uint8 [3, height, width]."""
        if (height, width) not in self._thumbnails:
            resized = Image.fromarray(self.picture).resize(
                (width, height), Image.Resampling.BICUBIC
            )
            thumbnail = torch.from_numpy(np.asarray(resized).copy()).permute(2, 0, 1)
            self._thumbnails[height, width] = thumbnail.contiguous()
        return self._thumbnails[height, width]

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        image = x.to(torch.float32)
        kitty = self.thumbnail(*x.shape[2:]).to(device=x.device, dtype=torch.float32)
        alpha32 = torch.tensor(self.alpha, dtype=torch.float32, device=x.device)
        return (kitty - image).mul_(alpha32).add_(image).trunc_().to(torch.uint8)


@register_attack
class BlendNoiseImageNet(_Blend):
    """ABL's ImageNet "Blend" (unverified): the fixed 224x224 noise of `ImageNet_blend_mask.npy`.

    ABL ships this uniform-noise mask but its code never loads it (docs/attacks.md §5.3), so its
    use as ABL's ImageNet "Blend" is a reading, not a fact. It is blended like ABL's CIFAR-10 mask:
    ``floor((1 - alpha) * img + alpha * mask)`` in float64, the same grey mask on every channel.
    """

    name = "blend-noise-imagenet"
    papers = 'ABL "Blend" on ImageNet (unverified: the mask is shipped but never loaded)'
    asset_files = (ABL_IMAGENET_NOISE,)

    def __init__(
        self,
        alpha: float = DEFAULT_ALPHA,
        assets: str | Path | None = None,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(alpha, label_rule)
        self.mask = torch.from_numpy(read_array(self.asset_files[0], assets))  # uint8 [224, 224]

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "mask_sha256": MANIFEST[self.asset_files[0]].sha256}

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        if (height, width) != tuple(self.mask.shape):
            raise ValueError(
                f"attack {self.name!r} blends a fixed {tuple(self.mask.shape)} mask and needs "
                f"images of that size, got {height}x{width}"
            )

    def _pattern(self, channels: int, height: int, width: int) -> torch.Tensor:
        return self.mask.to(torch.float64).unsqueeze(0)
