"""Image splits as tensors: the unit every other module passes around."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch


@dataclass(frozen=True)
class Split:
    """A set of images and labels: ``x`` uint8 [N, C, H, W], ``y`` int64 [N]."""

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if self.x.dtype != torch.uint8 or self.x.ndim != 4:
            raise ValueError(
                f"images must be uint8 [N, C, H, W], got {self.x.dtype} {tuple(self.x.shape)}"
            )
        if self.y.dtype != torch.int64 or self.y.shape != (self.x.shape[0],):
            raise ValueError(
                f"labels must be int64 [N] with N={self.x.shape[0]}, "
                f"got {self.y.dtype} {tuple(self.y.shape)}"
            )

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x.shape[1:])  # type: ignore[return-value]

    def to(self, device: torch.device | str) -> Split:
        """The same split with every tensor field on ``device``."""
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def subset(self, index: torch.Tensor) -> Split:
        """The rows ``index`` (positions or a boolean mask) of every tensor field."""
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class PoisonedSplit(Split):
    """A training split after poisoning.

    ``y`` holds the labels a defender sees (poisoned where the attack relabels). ``y_true``,
    ``is_poison`` and ``index`` exist for metrics and logging only: a defense must never read
    ``y_true`` or ``is_poison`` to make a decision.
    """

    y_true: torch.Tensor
    is_poison: torch.Tensor
    index: torch.Tensor


@dataclass(frozen=True)
class ImageDataset:
    """A dataset as loaded into memory: a train and a test split plus its class names."""

    name: str
    train: Split
    test: Split
    classes: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)
