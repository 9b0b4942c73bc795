"""The batched "FCT" view of D-ST's SD module: a random rotation, then a random integer shift.

D-ST's consistency metric (docs/methods/dst-dbr.md §3.2, step 3) compares a model's features on
an image with those on ``RandomRotation(180)`` followed by
``RandomAffine(degrees=0, translate=(0.2, 0.2))`` of the same image (nearest interpolation, fill
0). Here every image of a batch gets its own angle and shift, drawn at once from a
``torch.Generator`` on the batch's device, and both transforms are applied by one ``grid_sample``
call on a per-image affine grid.

Conventions follow torchvision: a positive angle turns the image counter-clockwise about its centre
(the point ((W - 1) / 2, (H - 1) / 2) in pixel indices); a shift (tx, ty) moves the content tx
pixels right and ty pixels down. Composing the two in one sampling is exact: the shift is by whole
pixels, so sampling at the rotation's source of the un-shifted position reads the same pixel as
the two steps do, and pixels that the shift brings in from outside the frame are zeroed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def rotate_translate(x: torch.Tensor, degrees: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Rotate float images ``x`` [N, C, H, W] by ``degrees`` [N], then shift by ``shifts`` [N, 2].

    ``shifts`` holds (tx, ty) per image: whole pixels right and down (rounded if not integers).
    Nearest interpolation; pixels with no source are 0.
    """
    if not x.is_floating_point() or x.ndim != 4:
        raise ValueError(f"expected float images [N, C, H, W], got {x.dtype} {tuple(x.shape)}")
    n, _, height, width = x.shape
    if degrees.shape != (n,) or shifts.shape != (n, 2):
        raise ValueError(
            f"degrees must be [N] and shifts [N, 2] with N = {n}, "
            f"got {tuple(degrees.shape)} and {tuple(shifts.shape)}"
        )
    dtype = torch.promote_types(x.dtype, torch.float32)  # grid coordinates need >= float32
    angle = torch.deg2rad(degrees.to(device=x.device, dtype=dtype))
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    shifts = torch.round(shifts.to(device=x.device, dtype=dtype))
    tx, ty = shifts[:, :1], shifts[:, 1:]

    # Output pixel (r, c) first undoes the shift, (r - ty, c - tx), an exact integer, then the
    # rotation. In pixel units about the centre, (u, v) with v pointing down, a counter-clockwise
    # turn on screen maps (u, v) to (u cos + v sin, -u sin + v cos), so the source is
    # (u cos - v sin, u sin + v cos). The grid is this map written out (an affine_grid with the
    # shift folded into its matrix rounds differently on nearest-neighbour ties, and would then
    # disagree with rotating first and shifting second). align_corners=False puts pixel centres
    # at (2 u / W, 2 v / H) in normalised coordinates.
    rows = torch.arange(height, device=x.device, dtype=dtype)
    cols = torch.arange(width, device=x.device, dtype=dtype)
    u = (cols[None, :] - tx + 0.5 - width / 2)[:, None, :]  # [N, 1, W]
    v = (rows[None, :] - ty + 0.5 - height / 2)[:, :, None]  # [N, H, 1]
    grid = torch.stack([(u * cos - v * sin) / (width / 2), (u * sin + v * cos) / (height / 2)], -1)
    out = F.grid_sample(
        x.to(dtype), grid, mode="nearest", padding_mode="zeros", align_corners=False
    ).to(x.dtype)

    # The shift's fill: output pixel (r, c) keeps its value only if (r - ty, c - tx) is inside.
    row_in = (rows[None, :] - ty >= 0) & (rows[None, :] - ty < height)  # [N, H]
    col_in = (cols[None, :] - tx >= 0) & (cols[None, :] - tx < width)  # [N, W]
    return out.masked_fill(~(row_in[:, None, :, None] & col_in[:, None, None, :]), 0.0)


@dataclass(frozen=True)
class RotateTranslate:
    """RandomRotation(max_degrees) then RandomAffine(degrees=0, translate=(t, t)), per image.

    The angle is uniform in [-max_degrees, max_degrees]; the shift is
    tx = round(uniform(-t W, t W)), ty = round(uniform(-t H, t H)) pixels, as torchvision draws
    them (round half to even, like Python's round).
    """

    max_degrees: float = 180.0
    max_translate: float = 0.2

    def __post_init__(self) -> None:
        if self.max_degrees < 0 or not 0 <= self.max_translate <= 1:
            raise ValueError(
                f"max_degrees must be >= 0 and max_translate in [0, 1], "
                f"got {self.max_degrees} and {self.max_translate}"
            )

    def sample(
        self, n: int, height: int, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw angles [N] (degrees) and integer shifts [N, 2] (tx, ty) for ``n`` images."""
        kw = {"generator": generator, "device": generator.device}
        degrees = self.max_degrees * (2 * torch.rand(n, **kw) - 1)
        u = 2 * torch.rand(n, 2, **kw) - 1
        tx = torch.round(self.max_translate * width * u[:, 0])
        ty = torch.round(self.max_translate * height * u[:, 1])
        return degrees, torch.stack([tx, ty], dim=1)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Rotate and shift float images ``x`` [N, C, H, W], each by its own random draw.

        ``generator`` must live on ``x``'s device.
        """
        if not x.is_floating_point() or x.ndim != 4:
            raise ValueError(f"expected float images [N, C, H, W], got {x.dtype} {tuple(x.shape)}")
        n, _, height, width = x.shape
        degrees, shifts = self.sample(n, height, width, generator)
        return rotate_translate(x, degrees, shifts)
