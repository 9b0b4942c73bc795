"""DeviceLoader (batching, shuffling, resume-exact epochs) and the batched augmentation."""

from __future__ import annotations

import pytest
import torch
from unpoison.data import ABL_AUGMENT, NO_AUGMENT, Augment, DeviceLoader, PoisonedSplit, Split
from unpoison.data.augment import AugmentDraw


def _images(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)


def _collect(batches) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    xs, ys, idx = zip(*batches, strict=True)
    return torch.cat(xs), torch.cat(ys), torch.cat(idx)


def _same(a: tuple[torch.Tensor, ...], b: tuple[torch.Tensor, ...]) -> bool:
    return all(torch.equal(u, v) for u, v in zip(a, b, strict=True))


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- loader


def test_shuffled_epoch_visits_every_index_once() -> None:
    x = _images(50)
    y = torch.arange(50) % 10
    loader = DeviceLoader(x, y, 16, shuffle=True, seed=3)
    assert len(loader) == 4
    sizes = [len(b[1]) for b in loader.epoch(0)]
    assert sizes == [16, 16, 16, 2]
    xs, ys, idx = _collect(loader.epoch(1))
    assert sorted(idx.tolist()) == list(range(50))
    assert not torch.equal(idx, torch.arange(50))  # actually shuffled
    assert torch.equal(ys, y[idx]) and torch.equal(xs, x[idx].float() / 255)


def test_drop_last_and_unshuffled_order() -> None:
    loader = DeviceLoader(_images(50), torch.zeros(50, dtype=torch.int64), 16, drop_last=True)
    assert len(loader) == 3
    _, _, idx = _collect(loader)
    assert idx.tolist() == list(range(48))


def test_no_augmentation_gives_uint8_over_255_exactly() -> None:
    x = _images(20)
    xs, _, _ = _collect(DeviceLoader(x, torch.zeros(20, dtype=torch.int64), 8))
    assert xs.dtype == torch.float32
    assert torch.equal(xs, x.float() / 255)
    assert xs.min() >= 0 and xs.max() <= 1


def test_from_split_uses_the_poisoned_index() -> None:
    x = _images(10)
    y = torch.arange(10)
    plain = DeviceLoader.from_split(Split(x, y), 4)
    assert _collect(plain)[2].tolist() == list(range(10))
    poisoned = PoisonedSplit(
        x, y, y_true=y, is_poison=torch.zeros(10, dtype=torch.bool), index=torch.arange(100, 110)
    )
    _, ys, idx = _collect(DeviceLoader.from_split(poisoned, 4, shuffle=True))
    assert torch.equal(idx, ys + 100)


def test_same_seed_same_batches_other_seed_other_order() -> None:
    x, y = _images(40), torch.arange(40)
    a = _collect(DeviceLoader(x, y, 8, shuffle=True, augment=ABL_AUGMENT, seed=5).epoch(2))
    b = _collect(DeviceLoader(x, y, 8, shuffle=True, augment=ABL_AUGMENT, seed=5).epoch(2))
    c = _collect(DeviceLoader(x, y, 8, shuffle=True, augment=ABL_AUGMENT, seed=6).epoch(2))
    assert _same(a, b)
    assert not torch.equal(a[2], c[2])


def test_epoch_does_not_depend_on_earlier_epochs() -> None:
    x, y = _images(40), torch.arange(40)
    resumed = DeviceLoader(x, y, 8, shuffle=True, augment=ABL_AUGMENT, seed=1)
    straight = DeviceLoader(x, y, 8, shuffle=True, augment=ABL_AUGMENT, seed=1)
    for e in range(3):
        for _ in straight.epoch(e):
            pass
    direct = _collect(resumed.epoch(3))
    after = _collect(straight.epoch(3))
    assert _same(direct, after)
    assert not torch.equal(direct[2], _collect(straight.epoch(2))[2])


def test_iter_is_epoch_zero() -> None:
    loader = DeviceLoader(_images(12), torch.arange(12), 5, shuffle=True, augment=ABL_AUGMENT)
    assert _same(_collect(loader), _collect(loader.epoch(0)))


def test_loader_rejects_bad_input() -> None:
    x, y = _images(4), torch.arange(4)
    with pytest.raises(ValueError, match="uint8"):
        DeviceLoader(x.float(), y, 2)
    with pytest.raises(ValueError, match="int64"):
        DeviceLoader(x, y.int(), 2)
    with pytest.raises(ValueError, match="batch_size"):
        DeviceLoader(x, y, 0)
    with pytest.raises(ValueError, match="no batch"):
        DeviceLoader(x, y, 8, drop_last=True)
    with pytest.raises(ValueError, match="seed"):
        DeviceLoader(x, y, 2, seed=-1)


# ---------------------------------------------------------------- augmentation


def _translate(image: torch.Tensor, down: int, right: int) -> torch.Tensor:
    """``image`` moved ``down`` rows and ``right`` columns, vacated pixels zero (roll + fill)."""
    moved = torch.roll(image, shifts=(down, right), dims=(1, 2))
    if down > 0:
        moved[:, :down] = 0
    elif down < 0:
        moved[:, down:] = 0
    if right > 0:
        moved[:, :, :right] = 0
    elif right < 0:
        moved[:, :, right:] = 0
    return moved


def test_crop_is_a_zero_filled_translation() -> None:
    aug = Augment(crop_padding=4)
    x = _images(64).float() / 255
    draw = aug.sample(64, 32, 32, _generator(0))
    out = aug.apply(x, draw)
    assert draw.offsets is not None and draw.flip is None and draw.centres is None
    assert draw.offsets.min() == 0 and draw.offsets.max() == 8
    for i in range(64):
        dy, dx = draw.offsets[i].tolist()
        # crop origin (dy, dx) in the padded image moves content by (4 - dy, 4 - dx)
        assert torch.equal(out[i], _translate(x[i], 4 - dy, 4 - dx))


def test_crop_by_hand_for_one_offset() -> None:
    aug = Augment(crop_padding=2)
    x = torch.arange(1, 17, dtype=torch.float32).reshape(1, 1, 4, 4)
    out = aug.apply(x, AugmentDraw(offsets=torch.tensor([[0, 3]]), flip=None, centres=None))
    # origin row 0, col 3 of the 2-padded image: two zero rows on top, content shifted left by 1
    expected = [[0, 0, 0, 0], [0, 0, 0, 0], [2, 3, 4, 0], [6, 7, 8, 0]]
    assert out[0, 0].tolist() == expected


def test_flip_mirrors_exactly_the_drawn_images() -> None:
    aug = Augment(flip=True)
    x = _images(64).float()
    draw = aug.sample(64, 32, 32, _generator(1))
    out = aug.apply(x, draw)
    assert draw.flip is not None and 0 < int(draw.flip.sum()) < 64
    assert torch.equal(out[draw.flip], x[draw.flip].flip(3))
    assert torch.equal(out[~draw.flip], x[~draw.flip])


def test_cutout_length_3_zeroes_at_most_2x2() -> None:
    aug = Augment(cutout_length=3)
    n, size = 400, 4  # a small image makes border centres frequent
    draw = aug.sample(n, size, size, _generator(2))
    out = aug.apply(torch.ones(n, 3, size, size), draw)
    assert draw.centres is not None
    assert set(draw.centres.flatten().tolist()) == {0, 1, 2, 3}  # uniform over the whole image
    zeros = (out == 0).sum(dim=(2, 3))  # per image and channel
    assert torch.equal(zeros[:, 0], zeros[:, 1]) and torch.equal(zeros[:, 0], zeros[:, 2])
    for i in range(n):
        cy, cx = draw.centres[i].tolist()
        rows = [r for r in (cy - 1, cy) if r >= 0]  # centre-1 .. centre+1, end exclusive
        cols = [c for c in (cx - 1, cx) if c >= 0]
        assert zeros[i, 0].item() == len(rows) * len(cols) <= 4
        expected = torch.ones(size, size)
        expected[torch.tensor(rows)[:, None], torch.tensor(cols)[None, :]] = 0
        assert torch.equal(out[i, 0], expected)
    inside = (draw.centres >= 1).all(dim=1)
    assert inside.any() and (zeros[inside, 0] == 4).all()


def test_abl_augment_is_crop_then_flip_then_cutout() -> None:
    x = _images(32).float() / 255
    draw = ABL_AUGMENT.sample(32, 32, 32, _generator(3))
    out = ABL_AUGMENT.apply(x, draw)
    for i in range(32):
        dy, dx = draw.offsets[i].tolist()
        expected = _translate(x[i], 4 - dy, 4 - dx)
        if draw.flip[i]:
            expected = expected.flip(2)
        cy, cx = draw.centres[i].tolist()
        expected[:, max(cy - 1, 0) : cy + 1, max(cx - 1, 0) : cx + 1] = 0
        assert torch.equal(out[i], expected)


def test_call_equals_sample_then_apply() -> None:
    x = _images(16).float() / 255
    direct = ABL_AUGMENT(x, _generator(4))
    draw = ABL_AUGMENT.sample(16, 32, 32, _generator(4))
    assert torch.equal(direct, ABL_AUGMENT.apply(x, draw))


def test_no_augment_is_identity_and_bad_input_is_rejected() -> None:
    x = _images(4).float()
    assert torch.equal(NO_AUGMENT(x, _generator(0)), x)
    assert ABL_AUGMENT == Augment(crop_padding=4, flip=True, cutout_length=3)
    with pytest.raises(ValueError, match="float images"):
        ABL_AUGMENT(_images(4), _generator(0))
    with pytest.raises(ValueError, match=">= 0"):
        Augment(crop_padding=-1)
