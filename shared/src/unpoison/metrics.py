"""Evaluation numbers shared by every method.

The papers disagree on what "clean accuracy" means (docs/evaluation.md §3), so we always record
both: CA_all on the whole clean test set (CBD, T&R) and CA_nontarget on test images whose true label
is not the target (ABL, D-ST/D-BR). ASR is the accuracy on the backdoor test set, whose labels are
the attack's labels (see ``unpoison.attacks.backdoor_test_set``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from unpoison.data.split import Split

CHANNELS_LAST = torch.channels_last  # the layout of our models' weights (models.registry)
EVAL_BATCH_SIZE = 512  # our choice: large batches, no effect on the numbers


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Predicted labels for uint8 images, in eval mode; the model's mode is restored after."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    preds = [
        model(
            x[i : i + batch_size]
            .to(device)
            .float()
            .div_(255)
            .contiguous(memory_format=CHANNELS_LAST)
        ).argmax(1)
        for i in range(0, x.shape[0], batch_size)
    ]
    model.train(was_training)
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.int64, device=device)


def accuracy(model: nn.Module, split: Split, batch_size: int = EVAL_BATCH_SIZE) -> float:
    """Fraction of ``split`` classified as its labels."""
    if len(split) == 0:
        raise ValueError("cannot compute an accuracy on an empty split")
    preds = predict(model, split.x, batch_size)
    return (preds == split.y.to(preds.device)).float().mean().item()


def evaluate(model: nn.Module, test: Split, backdoor_test: Split, target: int) -> dict[str, float]:
    """CA_all, CA_nontarget and ASR, all as percentages (as the papers print them)."""
    preds = predict(model, test.x)
    correct = preds == test.y.to(preds.device)
    nontarget = test.y.to(preds.device) != target
    return {
        "ca_all": 100.0 * correct.float().mean().item(),
        "ca_nontarget": 100.0 * correct[nontarget].float().mean().item(),
        "asr": 100.0 * accuracy(model, backdoor_test),
    }


def evaluator(
    model: nn.Module, test: Split | None, backdoor_test: Split | None, target: int | None
) -> Callable[[], dict[str, float]]:
    """``evaluate`` of ``model`` as a callable for the training loops; it returns no metrics when
    any of the test sets or the target is missing."""
    if test is None or backdoor_test is None or target is None:
        return dict
    return lambda: evaluate(model, test, backdoor_test, target)


def separation(selected: torch.Tensor, is_poison: torch.Tensor) -> dict[str, float]:
    """Precision and recall of a set of selected sample positions against the true poison flags.

    ``selected`` holds positions into the training split (or a boolean mask over it).
    """
    mask = torch.zeros_like(is_poison, dtype=torch.bool)
    if selected.dtype != torch.bool:
        selected = selected.long()
    mask[selected.to(is_poison.device)] = True
    true_positives = (mask & is_poison).sum().item()
    return {
        "precision": true_positives / max(int(mask.sum().item()), 1),
        "recall": true_positives / max(int(is_poison.sum().item()), 1),
    }
