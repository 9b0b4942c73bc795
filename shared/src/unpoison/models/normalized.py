"""Per-channel input normalisation in front of a Backbone, for methods that train on it.

Every unpoison model takes images in [0, 1]. D-ST and D-BR (Chen et al., NeurIPS 2022) feed their
networks (x - mean) / std with a per-channel mean and std instead; ``Normalized`` puts that step
inside the model, so datasets, attacks and metrics keep working on [0, 1] images.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from unpoison.models.backbone import Backbone

# A per-channel (mean, std) pair, as the official codes write it.
Normalization = tuple[tuple[float, float, float], tuple[float, float, float]]
# D-ST/D-BR's CIFAR-10 normalisation (SCLBD/Effective_backdoor_defense, every CIFAR-10 script,
# including the benign model its CL attack perturbs against).
CIFAR10_NORMALIZATION: Normalization = ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))


class Normalized(nn.Module):
    """``backbone`` applied to ``(x - mean) / std``, with the Backbone interface.

    ``mean`` and ``std`` are per-channel (3 values each, ``std`` > 0) and stored as buffers, so
    they move with ``.to(device)`` and are saved in the state dict. ``fc``, ``feature_dim`` and
    ``num_classes`` are the backbone's; anything else (e.g. ``forward_projection``) is reached as
    ``model.backbone.<name>(model.normalize(x))``.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, backbone: Backbone, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        mean_t = torch.as_tensor(mean, dtype=torch.float32)
        std_t = torch.as_tensor(std, dtype=torch.float32)
        if mean_t.shape != (3,) or std_t.shape != (3,):
            raise ValueError(
                f"mean and std need one value per RGB channel (3 each), got "
                f"{tuple(mean_t.shape)} and {tuple(std_t.shape)}"
            )
        finite = bool(torch.isfinite(mean_t).all() and torch.isfinite(std_t).all())
        if not finite or not bool((std_t > 0).all()):
            raise ValueError(f"mean and std must be finite, std > 0; got {mean!r} and {std!r}")
        self.backbone = backbone
        self.register_buffer("mean", mean_t.view(1, 3, 1, 1))
        self.register_buffer("std", std_t.view(1, 3, 1, 1))

    @property
    def fc(self) -> nn.Linear:
        return self.backbone.fc

    @property
    def feature_dim(self) -> int:
        return self.backbone.feature_dim

    @property
    def num_classes(self) -> int:
        return self.backbone.num_classes

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """``(x - mean) / std`` of float images [N, 3, H, W] in [0, 1]."""
        Backbone.check_images(x)  # before the float buffers would silently promote a uint8 batch
        return (x - self.mean) / self.std

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's pooled features [N, feature_dim] of the normalised images."""
        return self.backbone.forward_features(self.normalize(x))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits [N, num_classes] from features [N, feature_dim]."""
        return self.backbone.forward_head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [N, num_classes] of images [N, 3, H, W] in [0, 1]."""
        return self.forward_head(self.forward_features(x))
