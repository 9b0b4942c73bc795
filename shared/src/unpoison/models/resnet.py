"""ResNet-18 for 32x32 images: 3x3 stride-1 stem, no max-pool, post-activation BasicBlocks.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, with the usual CIFAR stem
(the 7x7/2 conv becomes 3x3/1 and the max-pool is dropped, as in the SupContrast ResNet-18 that
D-ST uses for its ST module). Blocks, 1x1-conv+BN projection shortcuts and initialisation
(conv Kaiming-normal fan_out, BN weight 1 bias 0, Linear PyTorch default) follow torchvision's
ResNet, which huyvnphan/PyTorch_CIFAR10 copies. That repository (D-ST/D-BR's backdoored model)
keeps the 3x3/2 max-pool; dropping it leaves the parameter count (11,173,962) unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.models.backbone import Backbone
from unpoison.models.registry import MODELS

STAGE_WIDTHS = (64, 128, 256, 512)  # He et al. 2016 / torchvision
STAGE_STRIDES = (1, 2, 2, 2)  # He et al. 2016 / torchvision


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus a shortcut, then ReLU (post-activation)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        changes_shape = stride != 1 or in_channels != out_channels
        self.shortcut = (
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
            if changes_shape
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(self.shortcut(x) + residual)


class CifarResNet(Backbone):
    """ResNet with a CIFAR stem and ``blocks_per_stage`` BasicBlocks in each of four stages."""

    def __init__(self, blocks_per_stage: Sequence[int], num_classes: int = 10) -> None:
        super().__init__(feature_dim=STAGE_WIDTHS[-1], num_classes=num_classes)
        self.conv1 = nn.Conv2d(3, STAGE_WIDTHS[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0])
        stages = []
        in_channels = STAGE_WIDTHS[0]
        for width, stride, count in zip(STAGE_WIDTHS, STAGE_STRIDES, blocks_per_stage, strict=True):
            blocks = [BasicBlock(in_channels, width, stride)]
            blocks += [BasicBlock(width, width, 1) for _ in range(count - 1)]
            stages.append(nn.Sequential(*blocks))
            in_channels = width
        self.stages = nn.Sequential(*stages)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_images(x)
        return self.stages(F.relu(self.bn1(self.conv1(x)))).mean(dim=(2, 3))


@MODELS.register("resnet18-cifar")
def resnet18_cifar(num_classes: int = 10) -> CifarResNet:
    """ResNet-18 with a CIFAR stem: 11,173,962 parameters for 10 classes."""
    return CifarResNet([2, 2, 2, 2], num_classes=num_classes)
