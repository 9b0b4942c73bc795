"""SimCLRAugment: D-ST's SimCLR pipeline batched on the device (crop, flip, jitter, grayscale)."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from unpoison.data import SimCLRAugment
from unpoison.data.simclr import SimCLRDraw, _shift_hue

IDENTITY_CROP = {"scale": (1.0, 1.0), "ratio": (1.0, 1.0)}
OFF = {"flip": False, "jitter_p": 0.0, "grayscale_p": 0.0}


def _generator(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def _images(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=_generator(seed))


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_shape_range_and_device(device: str) -> None:
    x = _images(64).to(device)
    out = SimCLRAugment()(x, _generator(0, device))
    assert out.shape == (64, 3, 32, 32) and out.dtype == torch.float32
    assert out.device.type == device
    assert out.min() >= 0 and out.max() <= 1
    assert (out - x).abs().amax(dim=(1, 2, 3)).min() > 0.01  # every image changed
    small = SimCLRAugment(size=24)(x, _generator(0, device))
    assert small.shape == (64, 3, 24, 24)


def test_everything_off_is_the_identity() -> None:
    x = _images(16)
    out = SimCLRAugment(**IDENTITY_CROP, **OFF)(x, _generator(0))
    assert (out - x).abs().max() < 1e-5


def test_crop_and_flip_equal_resizing_the_cut_out_box() -> None:
    aug = SimCLRAugment(jitter_p=0.0, grayscale_p=0.0)
    x = _images(12)
    draw = aug.sample(12, 32, 32, _generator(1))
    out = aug.apply(x, draw)
    assert draw.flip is not None and 0 < int(draw.flip.sum()) < 12
    for i in range(12):
        top, left, h, w = draw.boxes[i].int().tolist()
        box = x[i : i + 1, :, top : top + h, left : left + w]
        expected = F.interpolate(box, size=(32, 32), mode="bilinear", align_corners=False)[0]
        if draw.flip[i]:
            expected = expected.flip(2)
        assert (out[i] - expected).abs().max() < 1e-5


def test_crop_boxes_follow_torchvisions_law() -> None:
    aug = SimCLRAugment()
    boxes = aug.sample(4000, 32, 32, _generator(2)).boxes
    top, left, h, w = boxes.unbind(dim=1)
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + h <= 32).all() and (left + w <= 32).all()
    assert torch.equal(boxes, boxes.round())  # integer pixel boxes
    area = h * w / 1024
    assert area.min() > 0.15 and area.max() <= 1  # 0.2 .. 1, up to rounding of h and w
    assert ((w / h) > 0.6).all() and ((w / h) < 1.6).all()
    # torchvision's sequential tries, on its own random stream: the same law (means of 4000
    # draws; rejecting boxes wider or taller than the image pulls the mean area below 0.6)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        image = torch.zeros(3, 32, 32)
        get_params = T.RandomResizedCrop.get_params
        params = [get_params(image, [0.2, 1.0], [3 / 4, 4 / 3]) for _ in range(4000)]
    ref_top, _, ref_h, ref_w = torch.tensor(params, dtype=torch.float32).unbind(dim=1)
    ref_area = ref_h * ref_w / 1024
    assert area.mean() == pytest.approx(ref_area.mean().item(), abs=0.015)
    assert area.mean() < 0.57
    assert area.std() == pytest.approx(ref_area.std().item(), abs=0.015)
    assert (w / h).mean() == pytest.approx((ref_w / ref_h).mean().item(), abs=0.01)
    assert top.mean() == pytest.approx(ref_top.mean().item(), abs=0.25)
    assert top.max() > 10 and left.max() > 10  # the box moves over the image


def test_central_fallback_when_no_candidate_fits() -> None:
    # ratio 2 at full area: w = round(sqrt(1024 * 2)) = 45 > 32 every time. torchvision falls back
    # to the full width with h = round(32 / 2) = 16, centred: top = (32 - 16) // 2 = 8, left = 0.
    aug = SimCLRAugment(scale=(1.0, 1.0), ratio=(2.0, 2.0), **OFF)
    draw = aug.sample(5, 32, 32, _generator(3))
    assert draw.boxes.tolist() == [[8.0, 0.0, 16.0, 32.0]] * 5


def test_flip_only_mirrors_exactly_the_drawn_images() -> None:
    aug = SimCLRAugment(**IDENTITY_CROP, jitter_p=0.0, grayscale_p=0.0)
    x = _images(32)
    draw = aug.sample(32, 32, 32, _generator(4))
    out = aug.apply(x, draw)
    assert draw.flip is not None and 5 < int(draw.flip.sum()) < 27
    for i in range(32):
        same = (out[i] - x[i]).abs().max() < 1e-5
        mirrored = (out[i] - x[i].flip(2)).abs().max() < 1e-5
        assert bool(draw.flip[i]) == bool(mirrored) != bool(same)
    assert torch.equal(out, aug(x, _generator(4)))


def test_brightness_only_scales_a_constant_image() -> None:
    aug = SimCLRAugment(
        8, **IDENTITY_CROP, flip=False, jitter=(0.4, 0, 0, 0), jitter_p=1.0, grayscale_p=0.0
    )
    x = torch.full((200, 3, 8, 8), 0.5)
    draw = aug.sample(200, 8, 8, _generator(5))
    out = aug.apply(x, draw)
    assert draw.jitter is not None
    brightness = draw.jitter[:, 0]
    assert brightness.min() >= 0.6 and brightness.max() <= 1.4
    assert brightness.min() < 0.7 and brightness.max() > 1.3
    assert torch.equal(draw.jitter[:, 1:], torch.tensor([1.0, 1.0, 0.0]).expand(200, 3))
    assert (out - 0.5 * brightness[:, None, None, None]).abs().max() < 1e-6
    # clamped at 1: 0.9 * b > 1 for b > 1.11
    bright = aug.apply(torch.full((200, 3, 8, 8), 0.9), draw)
    expected = (0.9 * brightness).clamp(max=1.0)
    assert (bright[:, 0, 0, 0] - expected).abs().max() < 1e-6 and (expected == 1).sum() > 20


def test_jitter_applies_each_images_own_order_like_torchvision() -> None:
    aug = SimCLRAugment(8, **IDENTITY_CROP, flip=False, jitter_p=1.0, grayscale_p=0.0)
    x = _images(24, size=8, seed=6)
    draw = aug.sample(24, 8, 8, _generator(6))
    out = aug.apply(x, draw)
    assert draw.jitter is not None and draw.jitter_order is not None
    assert torch.equal(draw.jitter_order.sort(dim=1).values, torch.arange(4).expand(24, 4))
    assert len({tuple(r) for r in draw.jitter_order.tolist()}) > 8  # orders differ per image
    ops = [TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue]

    def torchvision_jitter(image: torch.Tensor, factors: list[float], order: list[int]):
        for step in order:
            image = ops[step](image, factors[step])
        return image

    wrong_order = 0
    for i in range(24):
        factors, order = draw.jitter[i].tolist(), draw.jitter_order[i].tolist()
        # torchvision's tensor grayscale uses 0.2989 for red where PIL (and we) use 0.299
        expected = torchvision_jitter(x[i], factors, order)
        assert (out[i] - expected).abs().max() < 5e-4
        reversed_order = torchvision_jitter(x[i], factors, order[::-1])
        wrong_order += int((out[i] - reversed_order).abs().max() > 5e-3)
    assert wrong_order > 18  # the order matters, and the test can tell


def test_jitter_probability_leaves_the_other_images_exactly_unchanged() -> None:
    aug = SimCLRAugment(4, **IDENTITY_CROP, flip=False, grayscale_p=0.0)
    x = _images(500, size=4)
    draw = aug.sample(500, 4, 4, _generator(7))
    out = aug.apply(x, draw)
    assert draw.jitter is not None
    skipped = (draw.jitter == torch.tensor([1.0, 1.0, 1.0, 0.0])).all(dim=1)
    assert 70 < int(skipped.sum()) < 130  # p = 0.8 applied
    assert (out[skipped] - x[skipped]).abs().max() < 1e-5
    assert ((out[~skipped] - x[~skipped]).abs().amax(dim=(1, 2, 3)) > 1e-3).all()


def test_grayscale_has_equal_channels_with_pil_luma() -> None:
    aug = SimCLRAugment(**IDENTITY_CROP, flip=False, jitter_p=0.0, grayscale_p=1.0)
    x = _images(8)
    out = aug(x, _generator(8))
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 0], out[:, 2])
    luma = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    assert (out[:, 0] - luma).abs().max() < 1e-5
    some = SimCLRAugment(4)(_images(1000, size=4), _generator(9))
    gray = (some[:, 0] == some[:, 1]).all(dim=(1, 2)) & (some[:, 1] == some[:, 2]).all(dim=(1, 2))
    assert 150 < int(gray.sum()) < 260  # p = 0.2


def test_hue_shift() -> None:
    x = _images(4, size=8)
    assert (_shift_hue(x, torch.zeros(4)) - x).abs().max() < 1e-6
    primaries = torch.eye(3)[:, :, None, None]  # red, green, blue, each a 1x1 image
    third = torch.full((3,), 1 / 3)
    # red -> green, green -> blue, blue -> red
    assert (_shift_hue(primaries, third) - primaries.roll(-1, dims=0)).abs().max() < 1e-6
    assert _shift_hue(primaries[:1], third[:1]).flatten().tolist() == pytest.approx([0, 1, 0])
    assert (_shift_hue(primaries, -third) - primaries.roll(1, dims=0)).abs().max() < 1e-6
    # a full turn is the identity; grays have no hue
    assert (_shift_hue(x, torch.ones(4)) - x).abs().max() < 1e-5
    gray = torch.full((2, 3, 2, 2), 0.4)
    assert (_shift_hue(gray, torch.tensor([0.25, -0.1])) - gray).abs().max() < 1e-7
    # the same as torchvision's adjust_hue, per image shift
    shifts = torch.tensor([0.1, -0.07, 0.5, -0.33])
    expected = torch.stack([TF.adjust_hue(x[i], shifts[i].item()) for i in range(4)])
    assert (_shift_hue(x, shifts) - expected).abs().max() < 1e-5


def test_same_seed_same_output_other_seed_other_output() -> None:
    x = _images(32)
    aug = SimCLRAugment()
    a, b = aug(x, _generator(10)), aug(x, _generator(10))
    assert torch.equal(a, b)
    assert not torch.equal(a, aug(x, _generator(11)))
    direct = aug.apply(x, aug.sample(32, 32, 32, _generator(10)))
    assert torch.equal(a, direct)


def test_a_512_batch_is_fast_on_cpu() -> None:
    x = _images(512)
    aug = SimCLRAugment()
    aug(x, _generator(0))  # warm-up
    start = time.perf_counter()
    aug(x, _generator(1))
    assert time.perf_counter() - start < 2.0


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="RGB"):
        SimCLRAugment()(torch.rand(2, 1, 32, 32), _generator(0))
    with pytest.raises(ValueError, match="RGB"):
        SimCLRAugment()(torch.zeros(2, 3, 32, 32, dtype=torch.uint8), _generator(0))
    with pytest.raises(ValueError, match="scale"):
        SimCLRAugment(scale=(0.5, 0.2))
    with pytest.raises(ValueError, match="ratio"):
        SimCLRAugment(ratio=(0.0, 1.0))
    with pytest.raises(ValueError, match="hue"):
        SimCLRAugment(jitter=(0.4, 0.4, 0.4, 0.6))
    with pytest.raises(ValueError, match="grayscale_p"):
        SimCLRAugment(grayscale_p=1.5)


def test_draw_fields_are_none_when_off() -> None:
    draw = SimCLRAugment(**OFF).sample(3, 32, 32, _generator(0))
    assert isinstance(draw, SimCLRDraw)
    assert draw.flip is None and draw.jitter is None and draw.grayscale is None
    assert draw.boxes.shape == (3, 4)
