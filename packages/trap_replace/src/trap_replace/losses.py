"""Stage 1's reconstruction terms and stage 2's CutMix loss, as T&R's code computes them."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """(sum of squared vertical differences + sum of squared horizontal differences) / (B*C*H*W).

    T&R code's TV term on the reconstruction [B, C, H, W] (docs/methods/trap-replace.md §3.3).
    """
    vertical = (images[:, :, 1:, :] - images[:, :, :-1, :]).pow(2).sum()
    horizontal = (images[:, :, :, 1:] - images[:, :, :, :-1]).pow(2).sum()
    return (vertical + horizontal) / images.numel()


def bait_and_trap_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    reconstruction: torch.Tensor | None,
    x: torch.Tensor,
    reconstruction_weight: float,
    tv_weight: float,
) -> torch.Tensor:
    """CE(logits, y) + w_rec * MSE(reconstruction, x) + w_tv * TV(reconstruction).

    MSE is the mean over all elements against the (augmented) input in [0, 1]; without a
    reconstruction (the "w/o aux reconstruction" ablation) only the cross-entropy remains.
    """
    loss = F.cross_entropy(logits, y)
    if reconstruction is not None:
        loss = loss + reconstruction_weight * F.mse_loss(reconstruction, x)
        loss = loss + tv_weight * total_variation(reconstruction)
    return loss


def cutmix_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    y_pasted: torch.Tensor,
    kept: float,
    label_smoothing: float,
) -> torch.Tensor:
    """kept * LS-CE(logits, y) + (1 - kept) * LS-CE(logits, y_pasted).

    ``kept`` is the fraction of each image that is still its own after the paste.
    """
    ce = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
    ce_pasted = F.cross_entropy(logits, y_pasted, label_smoothing=label_smoothing)
    return kept * ce + (1 - kept) * ce_pasted
