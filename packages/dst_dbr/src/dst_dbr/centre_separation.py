"""The SD module's fine-tuning loss, which the code calls "L_intra" (docs/methods/dst-dbr.md §3.2).

Per batch: the centre of each class present (the mean penultimate feature of its images, by their
possibly poisoned labels), L2-normalised; the loss is the mean of all K' x K' entries of the
centres' cosine matrix with its diagonal zeroed, K' being the number of classes present. It pushes
the class centres apart: a separation loss between classes, despite its name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def centre_separation_loss(
    features: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Mean off-diagonal cosine similarity of the class centres of ``features`` [B, D].

    Absent classes have a zero centre, so they add nothing to the sum; the mean is over the
    K' x K' matrix of the present ones (its zeroed diagonal included), as in the code.
    """
    if features.ndim != 2 or labels.shape != (features.shape[0],):
        raise ValueError(
            f"expected features [B, D] and labels [B], got {tuple(features.shape)} and "
            f"{tuple(labels.shape)}"
        )
    one_hot = F.one_hot(labels, num_classes).to(features.dtype)  # [B, K]
    counts = one_hot.sum(dim=0)  # [K]
    centres = (one_hot.T @ features) / counts.clamp(min=1)[:, None]
    centres = F.normalize(centres, dim=1)  # a zero centre stays zero
    cosine = centres @ centres.T
    off_diagonal = cosine - torch.diag_embed(torch.diagonal(cosine))
    present = (counts > 0).sum()
    return off_diagonal.sum() / present.square()
