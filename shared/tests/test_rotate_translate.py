"""RotateTranslate: D-ST's FCT view (rotation about the centre, then an integer shift), batched."""

from __future__ import annotations

import pytest
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode
from unpoison.data import RotateTranslate, rotate_translate

NEAREST = InterpolationMode.NEAREST


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _images(n: int, height: int = 32, width: int = 32, seed: int = 0) -> torch.Tensor:
    """Integer-valued images in 1..9, so that a zero can only be fill."""
    g = _generator(seed)
    return torch.randint(1, 10, (n, 3, height, width), generator=g).float()


def _torchvision(image: torch.Tensor, degrees: float, tx: int, ty: int) -> torch.Tensor:
    """RandomRotation's then RandomAffine's functional calls, one after the other."""
    rotated = TF.rotate(image, degrees, interpolation=NEAREST, fill=0)
    return TF.affine(
        rotated, angle=0.0, translate=[tx, ty], scale=1.0, shear=[0.0, 0.0],
        interpolation=NEAREST, fill=0,
    )  # fmt: skip


def _one(x: torch.Tensor, degrees: float, tx: float = 0, ty: float = 0) -> torch.Tensor:
    return rotate_translate(x, torch.full((len(x),), degrees), torch.tensor([[tx, ty]] * len(x)))


def test_zero_angle_and_zero_shift_is_exactly_the_identity() -> None:
    x = torch.rand(8, 3, 32, 32, generator=_generator(0))
    assert torch.equal(_one(x, 0.0), x)
    odd = torch.rand(2, 1, 5, 7, generator=_generator(1))
    assert torch.equal(_one(odd, 0.0), odd)


def test_right_angles_are_rot90_counter_clockwise() -> None:
    square = torch.arange(16.0).reshape(1, 1, 4, 4)
    # content of the right column moves to the top row
    assert _one(square, 90.0)[0, 0, 0].tolist() == [3.0, 7.0, 11.0, 15.0]
    assert torch.equal(_one(square, 90.0), torch.rot90(square, 1, dims=(2, 3)))
    assert torch.equal(_one(square, -90.0), torch.rot90(square, -1, dims=(2, 3)))
    assert torch.equal(_one(square, 180.0), torch.rot90(square, 2, dims=(2, 3)))
    assert torch.equal(_one(square, -180.0), torch.rot90(square, 2, dims=(2, 3)))
    x = _images(3)
    assert torch.equal(_one(x, 90.0), torch.rot90(x, 1, dims=(2, 3)))
    assert torch.equal(_one(x, 270.0), torch.rot90(x, -1, dims=(2, 3)))


@pytest.mark.parametrize("degrees", [90.0, 180.0, -90.0, 30.0, -45.0, 137.3])
@pytest.mark.parametrize(("tx", "ty"), [(0, 0), (3, -5), (-6, 6)])
def test_matches_torchvision_rotate_then_translate(degrees: float, tx: int, ty: int) -> None:
    x = _images(2, seed=2)
    out = _one(x, degrees, tx, ty)
    expected = torch.stack([_torchvision(image, degrees, tx, ty) for image in x])
    differing = (out != expected).any(dim=1).sum().item()
    if degrees % 90 == 0:
        assert differing == 0
    else:  # nearest-neighbour ties may round either way: a few of the 2 x 1024 pixels
        assert differing <= 4
    if degrees % 90 != 0 or (tx, ty) != (0, 0):
        assert (out == 0).any()  # something was filled
    assert (out != 0).sum() > 600  # and much was not


def test_one_sampling_equals_rotating_then_shifting() -> None:
    x = _images(64, seed=11)
    g = _generator(12)
    degrees = torch.rand(64, generator=g) * 360 - 180
    shifts = torch.randint(-6, 7, (64, 2), generator=g).float()
    rotated = rotate_translate(x, degrees, torch.zeros(64, 2))
    assert torch.equal(rotate_translate(x, degrees, shifts), _one_by_one_shift(rotated, shifts))


def _one_by_one_shift(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    width, height = x.shape[3], x.shape[2]
    for i, (tx, ty) in enumerate(shifts.int().tolist()):
        src_r, dst_r = (
            slice(max(-ty, 0), height - max(ty, 0)),
            slice(max(ty, 0), height + min(ty, 0)),
        )
        src_c, dst_c = slice(max(-tx, 0), width - max(tx, 0)), slice(max(tx, 0), width + min(tx, 0))
        out[i, :, dst_r, dst_c] = x[i, :, src_r, src_c]
    return out


def test_odd_and_non_square_sizes_match_torchvision() -> None:
    for height, width in [(5, 7), (8, 6), (9, 9)]:
        x = _images(1, height, width, seed=3)
        for degrees in (90.0, -90.0, 180.0):
            assert torch.equal(_one(x, degrees)[0], _torchvision(x[0], degrees, 0, 0))


def test_integer_shift_moves_pixels_exactly_and_fills_zero() -> None:
    x = _images(1, 6, 6, seed=4)
    out = _one(x, 0.0, tx=2, ty=-1)  # two right, one up
    expected = torch.zeros_like(x)
    expected[:, :, :5, 2:] = x[:, :, 1:, :4]
    assert torch.equal(out, expected)
    out = _one(x, 0.0, tx=-3, ty=4)
    expected = torch.zeros_like(x)
    expected[:, :, 4:, :3] = x[:, :, :2, 3:]
    assert torch.equal(out, expected)
    # a shift beyond the frame leaves nothing
    assert torch.equal(_one(x, 0.0, tx=6, ty=0), torch.zeros_like(x))


def test_shift_after_rotation_zeroes_what_came_from_outside() -> None:
    # Rotating by 90 keeps the whole square; a shift right by 2 must then zero the 2 left
    # columns, even though a one-shot affine map would read rotated image pixels there.
    x = _images(1, 8, 8, seed=5)
    out = _one(x, 90.0, tx=2, ty=0)
    rotated = torch.rot90(x, 1, dims=(2, 3))
    assert torch.equal(out[..., :2], torch.zeros(1, 3, 8, 2))
    assert torch.equal(out[..., 2:], rotated[..., :6])


def test_per_image_parameters() -> None:
    x = _images(3, 4, 4, seed=6)
    out = rotate_translate(
        x, torch.tensor([90.0, 0.0, 180.0]), torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    )
    assert torch.equal(out[0], torch.rot90(x[0], 1, dims=(1, 2)))
    assert torch.equal(out[1, :, :, 1:], x[1, :, :, :3]) and (out[1, :, :, 0] == 0).all()
    assert torch.equal(out[2], torch.rot90(x[2], 2, dims=(1, 2)))


def test_random_draws_follow_torchvision_ranges() -> None:
    aug = RotateTranslate()
    degrees, shifts = aug.sample(5000, 32, 32, _generator(7))
    assert degrees.min() >= -180 and degrees.max() <= 180
    assert degrees.min() < -170 and degrees.max() > 170
    assert degrees.mean().abs() < 5  # uniform, centred
    assert torch.equal(shifts, shifts.round())
    # round(uniform(-6.4, 6.4)): integers -6 .. 6, all of them hit
    assert set(shifts.flatten().tolist()) == set(range(-6, 7))
    wide = RotateTranslate(max_translate=0.2).sample(5000, 10, 40, _generator(8))[1]
    assert wide[:, 0].abs().max() == 8 and wide[:, 1].abs().max() == 2  # 0.2 W and 0.2 H


def test_call_applies_the_drawn_parameters_and_is_seeded() -> None:
    aug = RotateTranslate()
    x = _images(16, seed=9)
    out = aug(x, _generator(10))
    degrees, shifts = aug.sample(16, 32, 32, _generator(10))
    assert torch.equal(out, rotate_translate(x, degrees, shifts))
    assert torch.equal(out, aug(x, _generator(10)))
    assert not torch.equal(out, aug(x, _generator(11)))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert set(out.unique().tolist()) <= set(range(10))  # nearest: no new values


def test_rejects_bad_input() -> None:
    x = _images(2)
    with pytest.raises(ValueError, match="float images"):
        rotate_translate(x.to(torch.uint8), torch.zeros(2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="degrees"):
        rotate_translate(x, torch.zeros(3), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="shifts"):
        rotate_translate(x, torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match="max_translate"):
        RotateTranslate(max_translate=1.5)
    with pytest.raises(ValueError, match="float images"):
        RotateTranslate()(x[0], _generator(0))
