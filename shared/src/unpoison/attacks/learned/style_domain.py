"""The style domain DFST's generator learns to translate into.

DFST's CycleGAN translates CIFAR-10 into the "sunrise" class of the Kaggle Weather dataset
(docs/attacks.md §5.12), which is neither bundled nor reachable offline; in DFST's figures the
translated images keep their content under a warm sunrise light. ``sunrise_lit`` is our stand-in
domain: the training images themselves under a synthetic sunrise light, their luminance tinting a
sky graded from a deep orange-red horizon at a random height to a pale yellow zenith, with a random
brightness and pixel noise. The CycleGAN draws its style images at random, so it never sees an
image beside its own lit version. ``folder_images`` reads real style images (e.g. the Weather
dataset's sunrise folder) for users who have them.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from unpoison.data.image_folder import image_files, resize_to_tensor

HORIZON = (230.0, 80.0, 30.0)  # our choice: deep orange-red (RGB)
ZENITH = (250.0, 225.0, 140.0)  # our choice: pale yellow
DARKEST = 0.3  # our choice: a black pixel keeps 30% of the sky's light
NOISE = 6.0  # our choice: per-pixel noise, in pixel units


def sunrise_lit(images: torch.Tensor, seed: int) -> torch.Tensor:
    """``images`` (uint8 [N, C, H, W], C = 1 or 3) under the synthetic sunrise light: uint8 of
    the same shape (grey again when C is 1)."""
    count, channels, height, width = images.shape
    if channels not in (1, 3):
        raise ValueError(f"sunrise_lit needs 1- or 3-channel images, got {channels}")
    generator = torch.Generator().manual_seed(seed)
    horizon = 0.5 + 0.4 * torch.rand(count, 1, 1, 1, generator=generator)  # height from the top
    brightness = 0.8 + 0.2 * torch.rand(count, 1, 1, 1, generator=generator)
    rows = torch.linspace(0, 1, height).view(1, 1, height, 1)
    depth = (rows / horizon).clamp(max=1)  # 0 at the zenith (top row), 1 from the horizon down
    low, high = torch.tensor(HORIZON).view(1, 3, 1, 1), torch.tensor(ZENITH).view(1, 3, 1, 1)
    sky = (high + (low - high) * depth) * brightness
    luminance = images.float().mean(1, keepdim=True).cpu() / 255
    lit = sky * (DARKEST + (1 - DARKEST) * luminance)
    lit = lit + NOISE * torch.randn(count, 3, height, width, generator=generator)
    if channels == 1:
        lit = lit.mean(1, keepdim=True)
    return lit.clamp(0, 255).round().to(torch.uint8).to(images.device)


def folder_images(folder: str | Path, channels: int, size: int) -> torch.Tensor:
    """Every image in ``folder``, resized to ``size`` x ``size``: uint8 [N, channels, size,
    size] (grey, the mean of RGB, when ``channels`` is 1)."""
    images = []
    for path in image_files(Path(folder)):
        with Image.open(path) as image:
            images.append(resize_to_tensor(image, size))
    stacked = torch.stack(images)
    if channels == 1:
        return stacked.float().mean(1, keepdim=True).round().to(torch.uint8)
    return stacked
