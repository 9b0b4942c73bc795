"""One image under every trigger, side by side: what each attack does to the same picture."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from unpoison.assets import MissingAssetError
from unpoison.attacks.base import ATTACKS, Attack, create

# Our choice: the patches of 32x32 triggers are a few pixels wide; enlarge x4 to see them.
ZOOM = 4


@dataclass(frozen=True)
class Gallery:
    """The triggered images [N, C, H, W] (uint8, enlarged), their attack names, and the skips."""

    images: torch.Tensor
    names: tuple[str, ...]
    skipped: tuple[str, ...]  # "<attack>: <reason>" for attacks that could not be shown


def trigger_gallery(image: torch.Tensor, assets: str | Path | None = None) -> Gallery:
    """``image`` (uint8 [C, H, W]) clean, then under every registered attack's training trigger.

    Attacks that cannot be built with their defaults (a missing trigger file, a needed argument)
    or that do not fit the image size are listed in ``skipped`` with the reason.
    """
    if image.dtype != torch.uint8 or image.ndim != 3:
        raise ValueError(f"the gallery needs one uint8 image [C, H, W], got {tuple(image.shape)}")
    shown, names, skipped = [image], ["clean"], []
    for name in ATTACKS.names():
        try:
            attack: Attack = create(name, assets=assets)
            shown.append(attack.apply(image[None], train=True)[0])
            names.append(name)
        except (MissingAssetError, TypeError, ValueError) as error:
            reason = str(error).splitlines()[0]
            skipped.append(f"{name}: {reason}")
    images = torch.stack(shown).repeat_interleave(ZOOM, dim=2).repeat_interleave(ZOOM, dim=3)
    return Gallery(images=images, names=tuple(names), skipped=tuple(skipped))
