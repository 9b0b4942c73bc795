"""The SupContrast ResNet-18 of D-ST's ST module: encoder, projection head and linear classifier.

Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020; as used by Chen et al., NeurIPS 2022
(docs/methods/dst-dbr.md §3.1 and §3.3). The encoder is ``resnet18-cifar`` (3x3 stride-1 stem, no
max-pool) giving 512-d pooled features (``8 * width``-d at another width). The projection head is
Linear 512 -> 512, ReLU, Linear 512 -> 128, followed by L2 normalisation; encoder and head together
hold 11,497,152 parameters. ``fc`` is the Linear 512 -> K classifier that D-ST trains on the frozen
encoder features, so ``forward`` gives the final D-ST model's logits.
``resnet18-supcon-maxpool`` adds the 3x3/2 max-pool of ``resnet18-cifar-maxpool`` after the stem
(a quarter of the compute; D-ST's mini preset uses it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.models.registry import MODELS
from unpoison.models.resnet import BASE_WIDTH, CifarResNet

PROJECTION_DIM = 128  # SupContrast's feat_dim default


class SupConResNet(CifarResNet):
    """``resnet18-cifar`` plus the SupCon projection head ``projection``."""

    def __init__(
        self,
        num_classes: int = 10,
        projection_dim: int = PROJECTION_DIM,
        width: int = BASE_WIDTH,
        max_pool: bool = False,
    ) -> None:
        super().__init__([2, 2, 2, 2], num_classes=num_classes, width=width, max_pool=max_pool)
        self.projection = nn.Sequential(
            nn.Linear(self.feature_dim, self.feature_dim),
            nn.ReLU(),
            nn.Linear(self.feature_dim, projection_dim),
        )

    def forward_projection(self, x: torch.Tensor) -> torch.Tensor:
        """Unit-norm projections [N, projection_dim] of images [N, 3, H, W] in [0, 1]."""
        return F.normalize(self.projection(self.forward_features(x)), dim=1)


@MODELS.register("resnet18-supcon")
def resnet18_supcon(num_classes: int = 10, width: int = BASE_WIDTH) -> SupConResNet:
    """SupCon ResNet-18: 11,497,152 parameters in encoder and projection, plus the ``fc``."""
    return SupConResNet(num_classes=num_classes, width=width)


@MODELS.register("resnet18-supcon-maxpool")
def resnet18_supcon_maxpool(num_classes: int = 10, width: int = BASE_WIDTH) -> SupConResNet:
    """SupCon ResNet-18 with the stem max-pool: the same parameters, a quarter of the compute."""
    return SupConResNet(num_classes=num_classes, width=width, max_pool=True)
