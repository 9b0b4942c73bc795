"""Test images for the attack tests: constant and seeded random uint8 batches, and a check that
a trigger left every pixel outside its regions alone."""

import torch


def constant(value: int, n: int = 1, channels: int = 3, size: int = 32) -> torch.Tensor:
    """``n`` images of one grey value, uint8 [n, channels, size, size]."""
    return torch.full((n, channels, size, size), value, dtype=torch.uint8)


def random_images(
    n: int = 4, height: int = 32, width: int | None = None, seed: int = 0
) -> torch.Tensor:
    """``n`` seeded uniform-noise RGB images, uint8 [n, 3, height, width (default height)]."""
    generator = torch.Generator().manual_seed(seed)
    shape = (n, 3, height, height if width is None else width)
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)


def untouched_outside(
    before: torch.Tensor, after: torch.Tensor, regions: list[tuple[slice, slice]]
) -> bool:
    """True when ``after`` equals ``before`` everywhere outside the (rows, cols) regions."""
    outside = torch.ones(before.shape[-2:], dtype=torch.bool)
    for rows, cols in regions:
        outside[rows, cols] = False
    return bool(torch.equal(before[..., outside], after[..., outside]))
