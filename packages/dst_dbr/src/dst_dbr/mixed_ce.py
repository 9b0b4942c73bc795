"""D-ST's loss for its linear classifier (docs/methods/dst-dbr.md §3.3 b): learn the
suspected-clean images, push away from the suspected-poisoned ones.

L = mean CE over the batch's suspected-clean images - lambda * mean CE over its suspected-poisoned
images, lambda = 0.001. The code takes the second mean over an empty set when a batch holds no
suspected-poisoned image, which gives NaN; here an empty part adds 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mixed_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, suspected: torch.Tensor, poison_weight: float
) -> torch.Tensor:
    """The mixed CE of a batch; ``suspected`` [B] bool marks the SD module's poisoned part."""
    if suspected.shape != labels.shape or suspected.dtype != torch.bool:
        raise ValueError(
            f"suspected must be a bool mask shaped like labels {tuple(labels.shape)}, got "
            f"{suspected.dtype} {tuple(suspected.shape)}"
        )
    losses = F.cross_entropy(logits.float(), labels, reduction="none")
    clean = ~suspected
    clean_mean = (losses * clean).sum() / clean.sum().clamp(min=1)
    poisoned_mean = (losses * suspected).sum() / suspected.sum().clamp(min=1)
    return clean_mean - poison_weight * poisoned_mean
