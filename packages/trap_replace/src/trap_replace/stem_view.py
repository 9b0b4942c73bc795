"""What a user looks at to judge stage 1: reconstructions, and whether the stem was poisoned.

The paper's Figure 2 projects stem features of clean target-class, clean other-class and poisoned
images: a stem that separates the poisoned images from the others has learned the trigger, one
that mixes them with their true classes has not. We log that projection (the first two principal
components of the pooled stem features) as a TensorBoard image, one colour per group.
"""

from __future__ import annotations

import torch
from torch import nn
from unpoison.data.split import PoisonedSplit
from unpoison.logging import NullLogger
from unpoison.models.trap_wide_resnet import TrapWideResNet

EXAMPLES = 8  # images per reconstruction log
PROJECTED = 300  # images per group in the projection, at most
CANVAS = 160  # the projection image's side, in pixels
# clean target-class, clean other-class, poisoned (RGB)
GROUP_COLOURS = torch.tensor([[31, 119, 180], [160, 160, 160], [214, 39, 40]], dtype=torch.uint8)
GROUP_NAMES = ("clean target class (blue)", "clean other classes (grey)", "poisoned (red)")


@torch.no_grad()
def log_reconstructions(
    logger: NullLogger,
    model: TrapWideResNet,
    decoder: nn.Module,
    poisoned: PoisonedSplit,
    step: int,
) -> None:
    """Poisoned inputs (first row) above the decoder's reconstructions (second row)."""
    x = poisoned.x[poisoned.is_poison][:EXAMPLES].to(model.conv1.weight.device).float() / 255
    was_training = model.training, decoder.training
    model.eval()
    decoder.eval()
    reconstruction = decoder(model.forward_stem(x))
    model.train(was_training[0])
    decoder.train(was_training[1])
    logger.images("trap_replace/trap/reconstruction", torch.cat([x, reconstruction]), step)


@torch.no_grad()
def stem_projection(
    model: TrapWideResNet, poisoned: PoisonedSplit, target: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(2-D points [M, 2], group [M]) for up to PROJECTED images of each group (0 = clean target
    class, 1 = clean other classes, 2 = poisoned), from the stem's pooled output in eval mode.

    ``target`` defaults to the most common label among the poisoned images (uses the true flags:
    logging only).
    """
    flags = poisoned.is_poison
    if target is None:
        target = int(poisoned.y[flags].mode().values) if flags.any() else 0
    groups = [(~flags) & (poisoned.y_true == target), (~flags) & (poisoned.y_true != target), flags]
    picked = [mask.nonzero().squeeze(1)[:PROJECTED] for mask in groups]
    index = torch.cat(picked)
    labels = torch.cat([torch.full((len(p),), g) for g, p in enumerate(picked)])
    was_training = model.training
    model.eval()
    device = model.conv1.weight.device
    x = poisoned.x[index].to(device).float() / 255
    features = model.forward_stem(x).mean(dim=(2, 3)).float().cpu()
    model.train(was_training)
    centred = features - features.mean(dim=0)
    _, _, components = torch.linalg.svd(centred, full_matrices=False)
    return centred @ components[:2].T, labels


def scatter_image(points: torch.Tensor, groups: torch.Tensor, size: int = CANVAS) -> torch.Tensor:
    """A uint8 [3, size, size] white canvas with a 3x3 dot per point, coloured by group."""
    canvas = torch.full((3, size, size), 255, dtype=torch.uint8)
    low, high = points.min(dim=0).values, points.max(dim=0).values
    scaled = (points - low) / (high - low).clamp_min(1e-12)
    pixels = (scaled * (size - 3)).round().long() + 1
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            rows = (size - 1 - pixels[:, 1] + dy).clamp(0, size - 1)
            cols = (pixels[:, 0] + dx).clamp(0, size - 1)
            canvas[:, rows, cols] = GROUP_COLOURS[groups].T
    return canvas


def log_stem_projection(
    logger: NullLogger, model: TrapWideResNet, poisoned: PoisonedSplit, tag: str, step: int
) -> None:
    """Log the stem projection (see the module docstring) and which colour is which group."""
    points, groups = stem_projection(model, poisoned)
    logger.images(tag, scatter_image(points, groups).unsqueeze(0), step)
    logger.text(f"{tag}/legend", ", ".join(GROUP_NAMES))
