"""DFST's CycleGAN networks (Cheng et al., AAAI 2021; official code: its ``tensorflow`` branch,
Keras with keras_contrib; docs/attacks.md §5.12): the style generator and the PatchGAN
discriminator.

Generator, at base width w (the code's 32): a reflect-padded 7x7 convolution to w channels, 3x3
stride-2 convolutions to 2w and 4w, residual blocks at 4w, two x2 nearest upsamplings each followed
by a 3x3 convolution (2w, then w), and a reflect-padded 7x7 convolution to the image's channels;
every convolution is followed by an affine InstanceNorm (keras_contrib's default) and a ReLU, the
last one by an InstanceNorm and tanh. The code means to stack 9 residual blocks, but its loop
feeds every block the same input, so only the last one reaches the output: its recipe here has 1.
Images are in [-1, 1] inside these networks.

Discriminator (CycleGAN's PatchGAN): 4x4 stride-2 convolutions to w, 2w and 4w channels (the
first without normalisation), LeakyReLU(0.2) after each, and a 4x4 convolution to one score per
patch.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv_norm_relu(inputs: int, outputs: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(inputs, outputs, kernel, stride, padding=kernel // 2),
        nn.InstanceNorm2d(outputs, affine=True),
        nn.ReLU(),
    ]


class ResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))), 3x3 convolutions at a constant width."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv_norm_relu(channels, channels, 3),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class StyleGenerator(nn.Module):
    """Image-to-image translation in [-1, 1]; image sides must be divisible by 4."""

    def __init__(self, channels: int = 3, width: int = 32, residual_blocks: int = 1) -> None:
        super().__init__()
        if width < 1 or residual_blocks < 0:
            raise ValueError(
                f"width must be >= 1 and residual_blocks >= 0, got {width}, {residual_blocks}"
            )
        self.net = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(channels, width, 7),
            nn.InstanceNorm2d(width, affine=True),
            nn.ReLU(),
            *_conv_norm_relu(width, 2 * width, 3, stride=2),
            *_conv_norm_relu(2 * width, 4 * width, 3, stride=2),
            *(ResidualBlock(4 * width) for _ in range(residual_blocks)),
            nn.Upsample(scale_factor=2, mode="nearest"),
            *_conv_norm_relu(4 * width, 2 * width, 3),
            nn.Upsample(scale_factor=2, mode="nearest"),
            *_conv_norm_relu(2 * width, width, 3),
            nn.ReflectionPad2d(3),
            nn.Conv2d(width, channels, 7),
            nn.InstanceNorm2d(channels, affine=True),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """One realness score per image patch, for images in [-1, 1]."""

    def __init__(self, channels: int = 3, width: int = 64) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, padding=1),
            nn.InstanceNorm2d(2 * width, affine=True),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 4 * width, 4, 2, padding=1),
            nn.InstanceNorm2d(4 * width, affine=True),
            nn.LeakyReLU(0.2),
            nn.ZeroPad2d((1, 2, 1, 2)),  # Keras's "same" for a 4x4 kernel: the extra row at the end
            nn.Conv2d(4 * width, 1, 4),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
