"""CBD's sample reweighting: trust an example less the better the backdoored model f_B fits it.

Paper (Zhang et al. 2023): w(x) = CE(f_B(x), y) / (CE(f_B(x), y) + CE(f_C(x), y)). The
code adds 1e-8 to the denominator, detaches f_C's loss inside the weight, and rescales the weights
of each batch to average 1 (w <- w * B / sum(w)) before the mean of w_i * CE_i.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sample_weights(
    loss_backdoored: torch.Tensor, loss_clean: torch.Tensor, eps: float = 1e-8
) -> torch.Tensor:
    """Per-sample weights l_B / (l_B + l_C + eps), rescaled to mean 1 over the batch.

    Both losses are per-sample cross-entropies [B]; no gradient flows through the weights.
    """
    weights = loss_backdoored.detach() / (loss_backdoored.detach() + loss_clean.detach() + eps)
    return weights * weights.numel() / weights.sum()


def weighted_cross_entropy(
    logits: torch.Tensor, y: torch.Tensor, loss_backdoored: torch.Tensor, eps: float = 1e-8
) -> tuple[torch.Tensor, torch.Tensor]:
    """CBD's loss (1/B) sum_i w_i CE(logits_i, y_i), and the weights ``w`` [B] it used.

    ``logits`` are f_C's; ``loss_backdoored`` is f_B's per-sample cross-entropy on the same batch.
    """
    losses = F.cross_entropy(logits, y, reduction="none")
    weights = sample_weights(loss_backdoored, losses, eps)
    return (weights * losses).mean(), weights
