"""A data loader whose images stay on the training device as uint8.

Batches are cut from a device-resident tensor, converted to float per batch and augmented with
batched tensor ops. The shuffle order and augmentation of epoch ``e`` come from a generator
seeded from ``(seed, e)`` alone, so epoch ``e`` is the same whether or not the earlier epochs ran:
a resumed run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from unpoison.data.augment import NO_AUGMENT, Augment
from unpoison.data.split import PoisonedSplit, Split

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def epoch_seed(seed: int, epoch: int) -> int:
    """A 64-bit generator seed that depends on ``(seed, epoch)`` only (numpy's SeedSequence)."""
    if seed < 0 or epoch < 0:
        raise ValueError(f"seed and epoch must be >= 0, got seed={seed}, epoch={epoch}")
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)[0])


class DeviceLoader:
    """Batches ``(x float32 in [0, 1], y int64, index int64)`` from uint8 images on a device.

    ``index`` gives each image's position in the original training set (``PoisonedSplit.index``)
    and defaults to ``0..N-1``. ``device`` defaults to ``x``'s device.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool = False,
        augment: Augment = NO_AUGMENT,
        seed: int = 0,
        drop_last: bool = False,
        device: torch.device | str | None = None,
        index: torch.Tensor | None = None,
    ) -> None:
        if x.dtype != torch.uint8 or x.ndim != 4 or len(x) == 0:
            raise ValueError(
                f"images must be a non-empty uint8 [N, C, H, W], got {x.dtype} {tuple(x.shape)}"
            )
        n = len(x)
        if y.dtype != torch.int64 or y.shape != (n,):
            raise ValueError(f"labels must be int64 [{n}], got {y.dtype} {tuple(y.shape)}")
        if index is not None and (index.dtype != torch.int64 or index.shape != (n,)):
            raise ValueError(f"index must be int64 [{n}], got {index.dtype} {tuple(index.shape)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if drop_last and n < batch_size:
            raise ValueError(
                f"drop_last with {n} images and batch_size {batch_size} gives no batch: "
                "lower batch_size or set drop_last=False"
            )
        epoch_seed(seed, 0)  # rejects a negative seed now rather than at the first epoch
        self.device = torch.device(device) if device is not None else x.device
        self.x = x.to(self.device)
        self.y = y.to(self.device)
        self.index = (index if index is not None else torch.arange(n)).to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.seed = seed
        self.drop_last = drop_last

    @classmethod
    def from_split(cls, split: Split, batch_size: int, **kw: object) -> DeviceLoader:
        """A loader over ``split``; a PoisonedSplit contributes its ``index``."""
        index = split.index if isinstance(split, PoisonedSplit) else None
        return cls(split.x, split.y, batch_size, index=index, **kw)  # type: ignore[arg-type]

    @property
    def num_samples(self) -> int:
        """The number of images (not batches)."""
        return len(self.x)

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def epoch(self, e: int) -> Iterator[Batch]:
        """The batches of epoch ``e``; identical for equal ``(seed, e)``."""
        generator = torch.Generator(device=self.device)
        generator.manual_seed(epoch_seed(self.seed, e))
        order = None
        if self.shuffle:
            order = torch.randperm(self.num_samples, generator=generator, device=self.device)
        for b in range(len(self)):
            part = slice(b * self.batch_size, (b + 1) * self.batch_size)
            rows = part if order is None else order[part]
            x = self.x[rows].float() / 255
            x = self.augment(x, generator).contiguous(memory_format=torch.channels_last)
            yield x, self.y[rows], self.index[rows]

    def __iter__(self) -> Iterator[Batch]:
        return self.epoch(0)
