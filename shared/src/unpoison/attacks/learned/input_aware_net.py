"""The encoder-decoder behind the input-aware ("Dynamic") attack: its trigger generator G and its
mask generator M are two copies of this network with 3 and 1 output channels.

Architecture of the official code (VinAIResearch/input-aware-backdoor-attack-release,
``networks/models.py`` and ``networks/blocks.py``; docs/attacks.md §5.8). Every block is a 3x3
convolution (padding 1) + BatchNorm (momentum 0.05) + ReLU. With ``width`` w and ``steps`` s
(CIFAR-10 / GTSRB: 32 and 3; MNIST: 16 and 2):

- down, for each step: two blocks, then a 2x2 max-pool; the width doubles after every step but the
  last (3 -> 32 -> 32, 32 -> 64 -> 64, 64 -> 128 -> 128);
- middle: one block at the widest width;
- up, for each step: x2 bilinear upsampling, one block keeping the width, one block halving it;
  the last block outputs ``out_channels`` and has no ReLU.

The output is ``tanh(z) / (2 + 1e-7) + 0.5``, inside (0, 1).
"""

from __future__ import annotations

import torch
from torch import nn

# The official code's constants: the output squashing's epsilon, the BatchNorm momentum, and the
# mask threshold's slope and offset (``threshold``: tanh(20 m - 10)).
_EPSILON = 1e-7
_BN_MOMENTUM = 0.05
_THRESHOLD_SLOPE = 20.0
_THRESHOLD_OFFSET = 10.0


def _block(in_channels: int, out_channels: int, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.BatchNorm2d(out_channels, momentum=_BN_MOMENTUM),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class InputAwareGenerator(nn.Module):
    """G (``out_channels`` = image channels) or M (``out_channels`` = 1) of the input-aware attack.

    Input images are in [0, 1]; their height and width must be divisible by ``2 ** steps``.
    """

    def __init__(
        self, in_channels: int = 3, out_channels: int = 3, width: int = 32, steps: int = 3
    ) -> None:
        super().__init__()
        # With one step the official layout never switches to ``out_channels`` (it outputs
        # width // 2 channels), so at least two are required.
        if min(in_channels, out_channels, width) < 1 or steps < 2:
            raise ValueError(
                "in_channels, out_channels and width must be >= 1 and steps >= 2, got "
                f"{in_channels}, {out_channels}, {width}, {steps}"
            )
        self.steps = steps
        layers: list[nn.Module] = []
        current, following = in_channels, width
        for step in range(steps):
            layers += [_block(current, following), _block(following, following), nn.MaxPool2d(2)]
            if step < steps - 1:
                current, following = following, following * 2
        layers.append(_block(following, following))
        current, following = following, following // 2
        for step in range(steps):
            last = step == steps - 1
            layers += [
                nn.Upsample(scale_factor=2, mode="bilinear"),
                _block(current, current),
                _block(current, following, relu=not last),
            ]
            current, following = following, following // 2
            if step == steps - 2:
                following = out_channels
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        side = 2**self.steps
        if x.shape[-1] % side or x.shape[-2] % side:
            raise ValueError(
                f"the input-aware generator with {self.steps} steps needs image sides divisible "
                f"by {side}, got {tuple(x.shape[-2:])}"
            )
        return torch.tanh(self.layers(x)) / (2 + _EPSILON) + 0.5


def threshold_mask(m: torch.Tensor) -> torch.Tensor:
    """M's output hardened towards 0 or 1: ``tanh(20 m - 10) / (2 + 1e-7) + 0.5``."""
    return torch.tanh(_THRESHOLD_SLOPE * m - _THRESHOLD_OFFSET) / (2 + _EPSILON) + 0.5


def apply_input_aware_trigger(
    x: torch.Tensor, pattern: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``x + (pattern - x) * mask``: the image blended towards its pattern where the mask is on.

    ``x`` and ``pattern`` are [N, C, H, W] in [0, 1], ``mask`` is the thresholded [N, 1, H, W].
    The official code applies this formula to normalised images and patterns; normalisation is
    affine per channel, so applying it to [0, 1] images gives the same triggered image.
    """
    return x + (pattern - x) * mask
