"""The composite attack's half-image mixer (Lin et al., CCS 2020; official code
TemporaryAcc0unt/composite-attack, ``HalfMixer`` with its defaults: no gap, jitter 3, shake on).

For each pair (a, b) the mixer, with its own random draws:

1. swaps a and b with probability 1/2;
2. splits left | right (``vertical``) or top / bottom, each with probability 1/2;
3. moves the split line by a jitter j, uniform in [-3, 3]: the first part is W/2 + j wide;
4. fills the first part with a window of a starting at a random p in [0, W/2 - j), and the rest,
   W/2 - j wide, with b's columns from q + j on, q random in [-j, W/2)
   (``shake``: each half is a randomly placed strip of its source, not its own half).

"W" is the height for a top / bottom split. The code mixes normalised float tensors; the mix only
copies pixels, so mixing raw uint8 pixels gives the same images. Batched: one gather per image, no
Python loop over images.
"""

from __future__ import annotations

import torch

JITTER = 3  # code: HalfMixer(jitter=3)


def check_mixable(height: int, width: int, jitter: int = JITTER) -> None:
    """Raise ValueError unless the mixer works on images of this size: even sides (the code's
    halves of an odd side do not fit together) of at least 2 * jitter + 2 pixels (so that every
    window start range is non-empty)."""
    smallest = 2 * jitter + 2
    if height % 2 or width % 2 or min(height, width) < smallest:
        raise ValueError(
            f"the half-image mixer needs even image sides of at least {smallest} pixels, "
            f"got {height}x{width}"
        )


def half_mix(
    a: torch.Tensor, b: torch.Tensor, generator: torch.Generator, jitter: int = JITTER
) -> torch.Tensor:
    """Mix image i of ``a`` with image i of ``b`` (both [N, C, H, W], same shape) as the module
    docstring says; the draws come from ``generator`` (a CPU generator), so a seed fixes them."""
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(f"half_mix needs two batches of one shape, got {a.shape} and {b.shape}")
    n, _, height, width = a.shape
    check_mixable(height, width, jitter)
    draws = torch.rand(n, 4, generator=generator)
    swap = draws[:, 0] < 0.5
    vertical = draws[:, 1] < 0.5
    shift = torch.randint(-jitter, jitter + 1, (n,), generator=generator)
    side = torch.where(vertical, width, height)  # the length across the split
    half = side // 2
    first_start = (draws[:, 2] * (half - shift)).long()  # p, code: randint(0, W/2 - j)
    second_start = (draws[:, 3] * (half + shift)).long() - shift  # q, code: randint(-j, W/2)

    device = a.device
    swapped = swap.to(device)[:, None, None, None]
    first = torch.where(swapped, b, a)
    second = torch.where(swapped, a, b)
    # Output line t < W/2 + j reads first[p + t]; the others read second[q + t - W/2].
    lines = torch.arange(max(height, width))
    from_first = lines[None, :] < (half + shift)[:, None]
    source = torch.where(
        from_first, first_start[:, None] + lines, (second_start - half)[:, None] + lines
    )
    # The other part's indices at a line, and the other orientation's, are computed but never
    # used: they are only kept inside the image (clamps here and in ``gather``).
    source = source.clamp(min=0)

    def gather(images: torch.Tensor, dim: int, length: int) -> torch.Tensor:
        index = source[:, :length].clamp(max=images.shape[dim] - 1).to(images.device)
        shape = [n, 1, 1, 1]
        shape[dim] = length
        return images.gather(dim, index.view(shape).expand_as(images))

    along_width = torch.where(
        from_first[:, None, None, :width].to(device),
        gather(first, 3, width),
        gather(second, 3, width),
    )
    along_height = torch.where(
        from_first[:, None, :height, None].to(device),
        gather(first, 2, height),
        gather(second, 2, height),
    )
    return torch.where(vertical[:, None, None, None].to(device), along_width, along_height)
