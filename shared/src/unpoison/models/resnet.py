"""ResNet-18s for 32x32 images: 3x3 stride-1 stem, post-activation BasicBlocks.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, with the usual CIFAR stem
(the 7x7/2 conv becomes 3x3/1). Blocks, 1x1-conv+BN projection shortcuts and initialisation
(conv Kaiming-normal fan_out, BN weight 1 bias 0, Linear PyTorch default) follow torchvision's
ResNet, which huyvnphan/PyTorch_CIFAR10 copies. Three registered variants
(docs/methods/dst-dbr.md §3.1):

- ``resnet18-cifar``: no max-pool, as in the SupContrast ResNet-18 that D-ST uses for its ST
  module (see ``supcon_resnet``); layer4 outputs 4x4 on 32x32 input.
- ``resnet18-cifar-maxpool``: huyvnphan's network, D-ST/D-BR's backdoored and SD model on
  CIFAR-10. It keeps the 3x3/2 max-pool (padding 1) after the stem, so layer4 outputs 2x2. The
  max-pool has no parameters: both count 11,173,962 for 10 classes.
- ``resnet18-cifar100``: weiaicunzai/pytorch-cifar100's ResNet-18, D-ST/D-BR's model on
  CIFAR-100. Layer by layer the same network as ``resnet18-cifar`` (no max-pool, first stage
  stride 1, 1x1-conv+BN projection shortcuts; 11,220,132 parameters for 100 classes), but that
  repository keeps PyTorch's default initialisation everywhere, so this entry does too.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.models.backbone import Backbone
from unpoison.models.registry import MODELS

BASE_WIDTH = 64  # He et al. 2016 / torchvision: the stages are 64, 128, 256 and 512 wide
# Ours: with 4 or 8 channels, CPU convolution backward in channels-last layout (torch 2.14.1)
# crashes the process at some batch sizes (segmentation fault; measured at 3, 7, 15 and 31);
# 16, 24 and 32 never did.
MIN_WIDTH = 16
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
    """ResNet with a CIFAR stem and ``blocks_per_stage`` BasicBlocks in each of four stages.

    ``max_pool`` inserts a 3x3/2 max-pool (padding 1) between the stem and the first stage.
    ``kaiming_init=False`` keeps PyTorch's default conv initialisation instead of torchvision's
    Kaiming-normal fan_out. ``width`` is the stem's and first stage's channel count (64 in every
    paper); the stages double it, so the features are ``8 * width``-d. A narrower network (at
    least ``MIN_WIDTH``) is a mini preset's way of fitting the time budget.
    """

    def __init__(
        self,
        blocks_per_stage: Sequence[int],
        num_classes: int = 10,
        *,
        max_pool: bool = False,
        kaiming_init: bool = True,
        width: int = BASE_WIDTH,
    ) -> None:
        if isinstance(width, bool) or not isinstance(width, int) or width < MIN_WIDTH:
            raise ValueError(f"width must be an int >= {MIN_WIDTH}, got {width!r}")
        widths = [width * 2**stage for stage in range(len(STAGE_STRIDES))]
        super().__init__(feature_dim=widths[-1], num_classes=num_classes)
        self.conv1 = nn.Conv2d(3, width, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.max_pool = nn.MaxPool2d(3, stride=2, padding=1) if max_pool else nn.Identity()
        stages = []
        in_channels = width
        for width, stride, count in zip(widths, STAGE_STRIDES, blocks_per_stage, strict=True):
            blocks = [BasicBlock(in_channels, width, stride)]
            blocks += [BasicBlock(width, width, 1) for _ in range(count - 1)]
            stages.append(nn.Sequential(*blocks))
            in_channels = width
        self.stages = nn.Sequential(*stages)
        if kaiming_init:
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def compute_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_images(x)
        stem = self.max_pool(F.relu(self.bn1(self.conv1(x))))
        return self.stages(stem).mean(dim=(2, 3))


@MODELS.register("resnet18-cifar")
def resnet18_cifar(num_classes: int = 10, width: int = BASE_WIDTH) -> CifarResNet:
    """ResNet-18 with a CIFAR stem: 11,173,962 parameters for 10 classes."""
    return CifarResNet([2, 2, 2, 2], num_classes=num_classes, width=width)


@MODELS.register("resnet18-cifar-maxpool")
def resnet18_cifar_maxpool(num_classes: int = 10, width: int = BASE_WIDTH) -> CifarResNet:
    """huyvnphan's CIFAR ResNet-18, stem max-pool kept: 11,173,962 parameters for 10 classes."""
    return CifarResNet([2, 2, 2, 2], num_classes=num_classes, max_pool=True, width=width)


@MODELS.register("resnet18-cifar100")
def resnet18_cifar100(num_classes: int = 10, width: int = BASE_WIDTH) -> CifarResNet:
    """weiaicunzai's ResNet-18 (``resnet18-cifar``, default init): 11,220,132 for 100 classes."""
    return CifarResNet([2, 2, 2, 2], num_classes=num_classes, kaiming_init=False, width=width)
