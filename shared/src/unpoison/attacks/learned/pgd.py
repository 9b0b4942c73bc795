"""Projected gradient descent in the L-infinity ball (Madry et al. 2018), batched.

Untargeted: each step moves the images by ``step * sign(grad)`` of the model's cross-entropy on the
true labels, then projects back into the ``eps`` ball around the clean images. The label-consistent
attacks use it to make target-class images hard to classify, and adversarial training uses it to
train their robust surrogate.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class PGDConfig:
    """One PGD attack: budget ``eps``, ``steps`` steps of ``step``, all in [0, 1] pixel units.

    ``random_start`` starts from a uniform draw in the ball (Madry et al.). ``clamp`` keeps every
    iterate inside [0, 1]; D-ST's copy of torchattacks leaves both clamps commented out, so its
    images may leave [0, 1] (docs/attacks.md §5.5).
    """

    eps: float
    step: float
    steps: int
    random_start: bool = True
    clamp: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.eps <= 1 or not 0 < self.step <= 1:
            raise ValueError(f"eps and step must be in (0, 1], got {self.eps} and {self.step}")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive int, got {self.steps!r}")


def pgd_linf(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    config: PGDConfig,
    generator: torch.Generator | None = None,
    start_noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Adversarial copies of the float images ``x`` [N, C, H, W] (labels ``y``) against ``model``.

    The model is used as it is (callers put it in eval mode, or in train mode for adversarial
    training); its parameters receive no gradient. The random start is ``(2 u - 1) eps`` with
    ``u`` = ``start_noise`` (uniform in [0, 1), broadcast to ``x``) when given, else drawn from
    ``generator`` for every pixel of every image.
    """
    x = x.detach()
    adv = x.clone()
    if config.random_start:
        if start_noise is None:
            start_noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        adv = adv + (2 * start_noise - 1) * config.eps
        if config.clamp:
            adv = adv.clamp(0, 1)
    for _ in range(config.steps):
        adv.requires_grad_(True)
        # Summed, not averaged: the sign of each image's gradient is the same, and an image's
        # steps do not depend on how many images share its batch.
        loss = F.cross_entropy(model(adv), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, adv)
        adv = adv.detach() + config.step * grad.sign()
        adv = x + (adv - x).clamp(-config.eps, config.eps)
        if config.clamp:
            adv = adv.clamp(0, 1)
    return adv.detach()
