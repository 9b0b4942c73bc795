"""PreAct-ResNet-18 for 32x32 images, as used by BackdoorBench (its default CIFAR model).

He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016; layout of BackdoorBench
``models/preact_resnet.py``: a 3x3 stride-1 stem conv with no BN, four stages of pre-activation
blocks (widths 64/128/256/512, first strides 1/2/2/2), global average pooling, Linear 512 -> K.
Like BackdoorBench there is no BN-ReLU between the last block and the pooling, so the pooled
features are the raw residual stream. Initialisation is PyTorch's default, as in BackdoorBench.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.models.backbone import Backbone
from unpoison.models.registry import MODELS

STAGE_WIDTHS = (64, 128, 256, 512)  # BackdoorBench / He et al. 2016
STAGE_STRIDES = (1, 2, 2, 2)  # BackdoorBench / He et al. 2016


class PreActBlock(nn.Module):
    """BN-ReLU-conv3x3-BN-ReLU-conv3x3 plus a shortcut.

    When the shape changes, the shortcut is a 1x1 conv applied to the *pre-activated* input
    (the first BN-ReLU output), not to the raw input; otherwise it is the identity on the raw
    input. This is both the BackdoorBench PreActBlock and the ABL/CBD WideResNet block.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        changes_shape = stride != 1 or in_channels != out_channels
        self.shortcut = (
            nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
            if changes_shape
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = F.relu(self.bn1(x))
        residual = self.conv2(F.relu(self.bn2(self.conv1(activated))))
        shortcut = x if self.shortcut is None else self.shortcut(activated)
        return shortcut + residual


class PreActResNet(Backbone):
    """Pre-activation ResNet with ``blocks_per_stage`` PreActBlocks in each of four stages."""

    def __init__(self, blocks_per_stage: Sequence[int], num_classes: int = 10) -> None:
        super().__init__(feature_dim=STAGE_WIDTHS[-1], num_classes=num_classes)
        self.conv1 = nn.Conv2d(3, STAGE_WIDTHS[0], 3, stride=1, padding=1, bias=False)
        stages = []
        in_channels = STAGE_WIDTHS[0]
        for width, stride, count in zip(STAGE_WIDTHS, STAGE_STRIDES, blocks_per_stage, strict=True):
            blocks = [PreActBlock(in_channels, width, stride)]
            blocks += [PreActBlock(width, width, 1) for _ in range(count - 1)]
            stages.append(nn.Sequential(*blocks))
            in_channels = width
        self.stages = nn.Sequential(*stages)

    def compute_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_images(x)
        return self.stages(self.conv1(x)).mean(dim=(2, 3))


@MODELS.register("preact-resnet18")
def preact_resnet18(num_classes: int = 10) -> PreActResNet:
    """PreAct-ResNet-18 (BackdoorBench): 11,171,146 parameters for 10 classes."""
    return PreActResNet([2, 2, 2, 2], num_classes=num_classes)
