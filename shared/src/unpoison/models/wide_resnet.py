"""WideResNet-d-k as in the ABL and CBD code (``models/wresnet.py``); WRN-16-1 is their default.

Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016. Layout (docs/methods/abl.md §3.5): a
3x3 conv 3 -> 16 stem, three groups of (d - 4) / 6 pre-activation blocks of widths 16k/32k/64k
with first strides 1/2/2, then BN-ReLU, average pooling and Linear 64k -> K. A width-changing
block feeds its first BN-ReLU output to both conv1 and the 1x1 shortcut conv (``PreActBlock``).

Deliberate differences from the official code: no dropout (the official default rate is 0, so
nothing changes), and global average pooling instead of ``avg_pool2d(out, 8)``. On 32x32 input
the last feature map is 8x8, so both are the same; global pooling also accepts other sizes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.models.backbone import Backbone
from unpoison.models.preact_resnet import PreActBlock
from unpoison.models.registry import MODELS

STEM_WIDTH = 16  # Zagoruyko & Komodakis 2016 / ABL code
GROUP_WIDTHS = (16, 32, 64)  # times widen_factor; Zagoruyko & Komodakis 2016 / ABL code
GROUP_STRIDES = (1, 2, 2)  # Zagoruyko & Komodakis 2016 / ABL code


class WideResNet(Backbone):
    """WRN-``depth``-``widen_factor`` with the ABL/CBD block, head and initialisation."""

    def __init__(self, depth: int, widen_factor: int, num_classes: int = 10) -> None:
        if depth < 10 or (depth - 4) % 6 != 0:
            raise ValueError(f"WideResNet depth must be 6n + 4 with n >= 1, got {depth}")
        if widen_factor < 1:
            raise ValueError(f"WideResNet widen_factor must be >= 1, got {widen_factor}")
        widths = [width * widen_factor for width in GROUP_WIDTHS]
        super().__init__(feature_dim=widths[-1], num_classes=num_classes)
        blocks_per_group = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, STEM_WIDTH, 3, stride=1, padding=1, bias=False)
        groups = []
        in_channels = STEM_WIDTH
        for width, stride in zip(widths, GROUP_STRIDES, strict=True):
            blocks = [PreActBlock(in_channels, width, stride)]
            blocks += [PreActBlock(width, width, 1) for _ in range(blocks_per_group - 1)]
            groups.append(nn.Sequential(*blocks))
            in_channels = width
        self.groups = nn.Sequential(*groups)
        self.bn = nn.BatchNorm2d(in_channels)
        # ABL/CBD wresnet.py: conv ~ N(0, sqrt(2 / (k*k*out_channels))), which is Kaiming-normal
        # with fan_out; BN weight 1, bias 0 (PyTorch's default); Linear bias 0, weight default.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(self.fc.bias)

    def compute_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_images(x)
        return F.relu(self.bn(self.groups(self.conv1(x)))).mean(dim=(2, 3))


@MODELS.register("wrn-16-1")
def wrn_16_1(num_classes: int = 10) -> WideResNet:
    """WRN-16-1 of ABL/CBD: 175,066 parameters for 10 classes."""
    return WideResNet(16, 1, num_classes=num_classes)


@MODELS.register("wrn-16-2")
def wrn_16_2(num_classes: int = 10) -> WideResNet:
    """WRN-16-2 with the same block and initialisation as WRN-16-1."""
    return WideResNet(16, 2, num_classes=num_classes)
