"""The feature consistency towards transformations (FCT) of D-ST / D-BR's SD module, and the
three-way split it yields (docs/methods/dst-dbr.md §3.2, steps 3-5).

FCT(x) is the mean over the feature dimensions of (f(x) - f(T(x)))^2, where f is the SD model's
penultimate feature in eval mode and T a random rotation (up to +-180 degrees) followed by a random
shift (up to 20% of the side). A backdoor's feature collapses when its trigger is rotated away, so
poisoned images score high. The thresholds are quantiles of the scores: the lowest
``clean_ratio`` are called clean, the highest ``poison_ratio`` poisoned, the rest uncertain.
"""

from __future__ import annotations

import torch
from torch import nn
from unpoison.data import RotateTranslate
from unpoison.metrics import EVAL_BATCH_SIZE

CLEAN, UNCERTAIN, POISONED = 0, 1, 2  # the code's flags for D_c, D_u and D_p
PARTS = {"clean": CLEAN, "uncertain": UNCERTAIN, "poisoned": POISONED}


@torch.no_grad()
def fct_scores(
    model: nn.Module,
    images: torch.Tensor,
    view: RotateTranslate,
    generator: torch.Generator,
    batch_size: int = EVAL_BATCH_SIZE,
) -> torch.Tensor:
    """FCT of every uint8 image [N, C, H, W] under ``model`` (a model with ``forward_features``),
    each against a fresh draw of ``view`` from ``generator``; float [N] on the images' device."""
    model.eval()
    scores = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].float() / 255
        x = x.contiguous(memory_format=torch.channels_last)
        moved = view(x, generator).contiguous(memory_format=torch.channels_last)
        difference = model.forward_features(x) - model.forward_features(moved)
        scores.append(difference.float().square().mean(dim=1))
    return torch.cat(scores)


def thresholds(
    scores: torch.Tensor, clean_ratio: float, poison_ratio: float
) -> tuple[float, float]:
    """(gamma_c, gamma_p): with the N scores sorted ascending, the ones at positions
    int(N * clean_ratio) and N - int(N * poison_ratio), as the code takes them."""
    n = len(scores)
    poison_count = int(n * poison_ratio)
    if poison_count < 1:
        raise ValueError(
            f"{n} scores and poison_ratio {poison_ratio} call no image poisoned: "
            "the split needs at least 1 / poison_ratio images"
        )
    ordered = scores.sort().values
    return ordered[int(n * clean_ratio)].item(), ordered[n - poison_count].item()


def split_flags(
    scores: torch.Tensor, clean_threshold: float, poison_threshold: float
) -> torch.Tensor:
    """The code's flag per image: CLEAN where score <= gamma_c, else POISONED where
    score >= gamma_p, else UNCERTAIN (int64, on the scores' device)."""
    flags = torch.full_like(scores, UNCERTAIN, dtype=torch.int64)
    flags[scores >= poison_threshold] = POISONED
    flags[scores <= clean_threshold] = CLEAN
    return flags
