"""The defender's clean holdout: a slice of the training split that is never poisoned.

Trap-and-Replace (docs/methods/trap-replace.md §3.1) keeps the last 5% of the training set aside,
clean; it is excluded from training on the poisoned data and used only to train the replacement
head. The
attacker's poison is planted in the rest (``poison(..., rate_base=len(train))`` counts T&R's
poison as a fraction of the whole training set, as its code does).
"""

from __future__ import annotations

import torch

from unpoison.data.split import Split


def check_holdout_fraction(fraction: float) -> None:
    """ValueError unless ``fraction`` is a number in the open interval (0, 1)."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 1:
        raise ValueError(f"holdout fraction must be in the open interval (0, 1), got {fraction!r}")


def split_holdout(train: Split, fraction: float) -> tuple[Split, Split]:
    """(the rest, the holdout): the holdout is the last ``int(fraction * N)`` images, in order.

    T&R's code: ``holdout = train[-int(ratio_holdout * N):]``. Raises ValueError when the fraction
    is outside (0, 1) or leaves either part empty.
    """
    check_holdout_fraction(fraction)
    size = int(fraction * len(train))
    if size == 0 or size == len(train):
        raise ValueError(
            f"a holdout fraction of {fraction} of {len(train)} images leaves an empty part"
        )
    positions = torch.arange(len(train), device=train.x.device)
    cut = len(train) - size
    return train.subset(positions[:cut]), train.subset(positions[cut:])
