"""The contract every registered model follows: pooled features, then a linear head."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

from unpoison.models.precision import feature_autocast, full_precision


class Backbone(nn.Module, ABC):
    """An image classifier split into a feature extractor and a linear head ``fc``.

    Input is float images in [0, 1], shape [N, 3, H, W]; no normalisation happens inside the
    model. ``forward_features`` returns the pooled penultimate features [N, feature_dim],
    ``forward_head`` maps them to logits [N, num_classes], and ``forward`` composes the two.
    A subclass implements ``compute_features``; ``forward_features`` runs it in the precision of
    ``unpoison.models.precision.compute_precision`` and returns full-precision features.
    """

    def __init__(self, feature_dim: int, num_classes: int) -> None:
        super().__init__()
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.fc = nn.Linear(feature_dim, num_classes)

    @abstractmethod
    def compute_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled penultimate features [N, feature_dim] of images [N, 3, H, W] in [0, 1]."""

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``compute_features`` in the current compute precision; bf16 results come back fp32."""
        with feature_autocast(x.device.type):
            return full_precision(self.compute_features(x))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits [N, num_classes] from features [N, feature_dim]."""
        return self.fc(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [N, num_classes] of images [N, 3, H, W] in [0, 1]."""
        return self.forward_head(self.forward_features(x))

    @staticmethod
    def check_images(x: torch.Tensor) -> None:
        """Raise ValueError unless ``x`` is a float batch [N, 3, H, W]."""
        if x.ndim != 4 or x.shape[1] != 3 or not x.is_floating_point():
            raise ValueError(
                f"expected float images [N, 3, H, W] in [0, 1], got {x.dtype} "
                f"{tuple(x.shape)}; convert a uint8 batch with x.float() / 255"
            )
