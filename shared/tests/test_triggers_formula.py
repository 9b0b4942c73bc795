"""Formula-defined triggers: exact pixels against docs/attacks.md and numpy re-statements of the
official arithmetic (BadNets variants, four-corner stamps, SIG variants, per-image noise blend,
WaNet)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import unpoison.attacks.base as attack_base
from trigger_images import constant, random_images, untouched_outside
from unpoison.attacks import LabelRule, create
from unpoison.attacks.four_corner import stamp_four_corners_dst, stamp_four_corners_flush
from unpoison.attacks.wanet import CROSS_RATIO, PC, WaNet

# ---- registry entries -----------------------------------------------------------------------

NEW_ATTACKS = {
    "badnets-white": LabelRule.ALL_TO_ONE,
    "badnets-square-imagenet": LabelRule.ALL_TO_ONE,
    "badnets-grid-imagenet": LabelRule.ALL_TO_ONE,
    "sig-stripe": LabelRule.CLEAN_LABEL,
    "sig-abl": LabelRule.CLEAN_LABEL,
    "sig-cbd": LabelRule.CLEAN_LABEL,
    "blend-strip-imagenet": LabelRule.ALL_TO_ONE,
    "blend-noise": LabelRule.ALL_TO_ONE,
    "wanet": LabelRule.ALL_TO_ONE,
}

# (largest rejected side, smallest accepted side) per attack.
SIZE_LIMITS = {
    "badnets-white": (4, 5),
    "badnets-square-imagenet": (21, 22),
    "badnets-grid-imagenet": (61, 62),
    "sig-stripe": (0, 1),
    "sig-abl": (0, 1),
    "sig-cbd": (0, 1),
    "blend-strip-imagenet": (0, 1),
    "blend-noise": (0, 1),
    "wanet": (1, 2),
}


def test_default_label_rules_and_papers() -> None:
    for name, rule in NEW_ATTACKS.items():
        attack = create(name)
        assert attack.label_rule is rule, name
        assert attack.papers, name


@pytest.mark.parametrize("name", sorted(NEW_ATTACKS))
def test_too_small_images_are_rejected_and_input_is_kept(name: str) -> None:
    rejected, accepted = SIZE_LIMITS[name]
    attack = create(name)
    if rejected:
        with pytest.raises(ValueError, match=f"{name}.*at least {accepted}x{accepted}"):
            attack.apply(constant(0, size=rejected))
    else:
        with pytest.raises(ValueError, match="non-empty"):
            attack.apply(torch.zeros(1, 3, 0, 0, dtype=torch.uint8))
    x = random_images(2, height=max(accepted, 4))
    original = x.clone()
    out = attack.apply(x)
    assert torch.equal(x, original)
    assert out.dtype == torch.uint8 and out.shape == x.shape and out.device == x.device


# ---- BadNets --------------------------------------------------------------------------------


def test_badnets_white_rows_and_cols_27_to_30() -> None:
    x = random_images()
    out = create("badnets-white").apply(x)
    assert bool((out[:, :, 27:31, 27:31] == 255).all())
    assert untouched_outside(x, out, [(slice(27, 31), slice(27, 31))])
    assert create("badnets-white").params() == {"label_rule": "all-to-one", "size": 4}
    assert torch.equal(out, create("badnets-square", size=4).apply(x))


def test_badnets_square_imagenet_is_flush_22_pixels() -> None:
    x = random_images(1, height=224)
    out = create("badnets-square-imagenet").apply(x)
    assert bool((out[:, :, 202:224, 202:224] == 255).all())
    assert untouched_outside(x, out, [(slice(202, 224), slice(202, 224))])
    small = create("badnets-square-imagenet", size=2).apply(constant(9, channels=1, size=4))
    assert small[0, 0].tolist() == [[9, 9, 9, 9], [9, 9, 9, 9], [9, 9, 255, 255], [9, 9, 255, 255]]


def test_badnets_grid_imagenet_blocks_on_256() -> None:
    x = constant(7, size=256)
    out = create("badnets-grid-imagenet").apply(x)
    expected_blocks = [[255, 0, 255], [0, 255, 0], [255, 0, 0]]
    starts = (32, 42, 52)
    for i, row in enumerate(starts):
        for j, col in enumerate(starts):
            block = out[:, :, row : row + 10, col : col + 10]
            assert bool((block == expected_blocks[i][j]).all()), (row, col)
    assert untouched_outside(x, out, [(slice(32, 62), slice(32, 62))])
    assert out[0, 0, 31, 32].item() == 7 and out[0, 0, 62, 61].item() == 7


# ---- four-corner stamps ---------------------------------------------------------------------


def test_four_corners_dst_layout() -> None:
    x = constant(7, n=2)
    out = stamp_four_corners_dst(x)
    corners = [
        (slice(1, 4), slice(1, 4), [[255, 0, 255], [0, 255, 0], [255, 0, 0]]),
        (slice(1, 4), slice(29, 32), [[255, 0, 255], [0, 255, 0], [0, 0, 255]]),
        (slice(29, 32), slice(1, 4), [[255, 0, 0], [0, 255, 0], [255, 0, 255]]),
        (slice(29, 32), slice(29, 32), [[0, 0, 255], [0, 255, 0], [255, 0, 255]]),
    ]
    for rows, cols, block in corners:
        assert out[:, :, rows, cols].tolist() == [[block] * 3] * 2
    assert untouched_outside(x, out, [(rows, cols) for rows, cols, _ in corners])
    assert out[0, 0, 0].tolist() == [7] * 32  # the top row is left free (1-pixel inset)
    assert torch.equal(x, constant(7, n=2))


def test_four_corners_flush_layout() -> None:
    x = random_images()
    out = stamp_four_corners_flush(x)
    grid = [[0, 0, 255], [0, 255, 0], [255, 0, 255]]
    corners = [(rows, cols) for rows in (slice(0, 3), slice(29, 32)) for cols in (0, 29)]
    corners = [(rows, slice(col, col + 3)) for rows, col in corners]
    for rows, cols in corners:
        assert out[:, :, rows, cols].tolist() == [[grid] * 3] * 4
    assert untouched_outside(x, out, corners)


def test_four_corner_stamps_reject_bad_input() -> None:
    with pytest.raises(ValueError, match=r"D-ST.*at least 7x7 pixels, got 6x6"):
        stamp_four_corners_dst(constant(0, size=6))
    with pytest.raises(ValueError, match=r"T&R.*at least 6x6 pixels, got 5x5"):
        stamp_four_corners_flush(constant(0, size=5))
    with pytest.raises(ValueError, match=r"uint8 tensor \[N, C, H, W\].*torch.float32"):
        stamp_four_corners_flush(constant(0).float())
    assert stamp_four_corners_dst(constant(0, size=7)).shape == (1, 3, 7, 7)


# ---- SIG variants ---------------------------------------------------------------------------


def test_sig_stripe_is_blend_strip_with_clean_label() -> None:
    x = random_images()
    assert torch.equal(create("sig-stripe").apply(x), create("blend-strip").apply(x))
    assert create("sig-stripe").params() == {"label_rule": "clean-label", "alpha": 0.2}
    y = torch.tensor([0, 3, 9])
    assert create("sig-stripe").poisoned_labels(y, 2, 10).tolist() == [0, 3, 9]


def official_sine_blend(img_hwc: np.ndarray, alpha: float, delta: float = 20, f: float = 6):
    """The float64 blend of the ABL README `plant_sin_trigger` / CBD `_signalTrigger`."""
    img = np.float32(img_hwc)
    pattern = np.zeros_like(img)
    m = pattern.shape[1]
    for j in range(img.shape[1]):
        pattern[:, j] = delta * np.sin(2 * np.pi * j * f / m)
    return alpha * np.uint32(img) + (1 - alpha) * pattern


def official_sig_abl(img_hwc: np.ndarray) -> np.ndarray:
    return np.uint8(np.clip(official_sine_blend(img_hwc, 0.2), 0, 255))


def official_sig_cbd(img_hwc: np.ndarray) -> np.ndarray:
    # CBD: np.clip(img.astype('uint8'), 0, 255); the float -> uint8 cast of x86 numpy truncates
    # toward zero and wraps modulo 256, written out explicitly here.
    blended = official_sine_blend(img_hwc, 0.1)
    return (np.trunc(blended).astype(np.int64) % 256).astype(np.uint8)


def official_blend_strip_imagenet(img_hwc: np.ndarray) -> np.ndarray:
    """D-ST `_signalTrigger_imagenet`: (1 - 0.2) * uint32(img) + 0.2 * float32 pattern."""
    img = np.float32(img_hwc)
    pattern = np.zeros_like(img)
    m = pattern.shape[1]
    for j in range(img.shape[1]):
        pattern[:, j] = 20 * np.sin(2 * np.pi * j * 6 / m)
    return np.uint8(np.clip((1 - 0.2) * np.uint32(img) + 0.2 * pattern, 0, 255))


@pytest.mark.parametrize(
    ("name", "official"),
    [
        ("sig-abl", official_sig_abl),
        ("sig-cbd", official_sig_cbd),
        ("blend-strip-imagenet", official_blend_strip_imagenet),
    ],
)
@pytest.mark.parametrize(("height", "width"), [(32, 32), (28, 28), (24, 40)])
def test_sig_readme_variants_match_numpy(name: str, official, height: int, width: int) -> None:
    x = random_images(6, height, width, seed=height + width)
    out = create(name).apply(x)
    for image, result in zip(x, out, strict=True):
        expected = official(image.permute(1, 2, 0).numpy())
        assert np.array_equal(result.permute(1, 2, 0).numpy(), expected)


def test_sig_abl_and_cbd_hand_values() -> None:
    # Sine 20 sin(2 pi c 6 / 32) at c = 0..4: 0, 18.48, 14.14, -7.65, -20.
    # ABL, 0.2 * 100 + 0.8 * sine: 20, 34.78, 31.31, 13.88, 4.
    assert create("sig-abl").apply(constant(100))[0, 0, 0, :5].tolist() == [20, 34, 31, 13, 4]
    # ABL clips before the cast: 0 + 0.8 * (-7.65) = -6.12 -> 0.
    assert create("sig-abl").apply(constant(0))[0, 1, 9, :5].tolist() == [0, 14, 11, 0, 0]
    # CBD, 0.1 * 100 + 0.9 * sine: 10, 26.63, 22.73, 3.11, -8 -> wraps to 248.
    assert create("sig-cbd").apply(constant(100))[0, 2, 5, :5].tolist() == [10, 26, 22, 3, 248]
    # 0 + 0.9 * (-7.65) = -6.89 -> trunc -6 -> 250; -18 -> 238; 25.5 - 18 = 7.5 -> 7.
    assert create("sig-cbd").apply(constant(0))[0, 0, 0, 3:5].tolist() == [250, 238]
    assert create("sig-cbd").apply(constant(255))[0, 0, 0, 4].item() == 7


def test_sig_readme_parameters() -> None:
    assert create("sig-cbd").params() == {
        "label_rule": "clean-label",
        "alpha": 0.1,
        "delta": 20.0,
        "frequency": 6.0,
    }
    assert create("sig-abl").params()["alpha"] == 0.2
    with pytest.raises(ValueError, match=r"sig-abl alpha .* below 1"):
        create("sig-abl", alpha=1.0)
    with pytest.raises(ValueError, match="sig-cbd delta must be positive"):
        create("sig-cbd", delta=-1)


# ---- per-image noise blend ------------------------------------------------------------------


def noise_of(shape: tuple, seed: int = 0, train: bool = True) -> torch.Tensor:
    """The noise masks of a call: alpha 1 on a zero image returns them unchanged."""
    zeros = torch.zeros(shape, dtype=torch.uint8)
    return create("blend-noise", seed=seed, alpha=1.0).apply(zeros, train=train)


def test_blend_noise_formula() -> None:
    x = random_images(8)
    out = create("blend-noise").apply(x)
    noise = noise_of(tuple(x.shape))
    assert bool((noise == noise[:, :1]).all())  # grey: the same mask on every channel
    assert int(noise.min()) == 0 and int(noise.max()) == 255
    expected = torch.floor(0.8 * x.double() + 0.2 * noise.double()).to(torch.uint8)
    assert torch.equal(out, expected)


def test_blend_noise_is_seeded_fresh_per_image_and_per_split() -> None:
    x = random_images(8)
    out = create("blend-noise", seed=3).apply(x)
    assert torch.equal(create("blend-noise", seed=3).apply(x), out)
    assert not torch.equal(create("blend-noise", seed=4).apply(x), out)
    assert not torch.equal(create("blend-noise", seed=3).apply(x, train=False), out)
    masks = noise_of((8, 1, 32, 32)).flatten(1)
    assert len(torch.unique(masks, dim=0)) == 8
    assert not torch.equal(noise_of((1, 1, 32, 32), train=False), noise_of((1, 1, 32, 32)))


def test_blend_noise_chunks_draw_new_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    n = attack_base._CHUNK + 4  # two chunks
    masks = noise_of((n, 1, 4, 4)).flatten(1)
    assert len(torch.unique(masks, dim=0)) == n
    whole = noise_of((7, 3, 8, 8))
    monkeypatch.setattr(attack_base, "_CHUNK", 3)
    assert torch.equal(noise_of((7, 3, 8, 8)), whole)


# ---- WaNet ----------------------------------------------------------------------------------


def test_wanet_grid_shape_range_and_orientation() -> None:
    grid = WaNet().grid(32, 32)
    assert grid.shape == (1, 32, 32, 2) and grid.dtype == torch.float32
    assert float(grid.abs().max()) == 1.0  # clamped to [-1, 1], and the edges reach it
    identity = WaNet(s=0).grid(32, 24)
    assert identity.shape == (1, 32, 24, 2)
    assert identity[0, 0, -1].tolist() == [1.0, -1.0]  # top-right pixel: x = +1, y = -1
    assert identity[0, -1, 0].tolist() == [-1.0, 1.0]  # bottom-left pixel: x = -1, y = +1
    offsets = (WaNet().grid(32, 32) - WaNet(s=0).grid(32, 32)) * 32 / 0.5
    inside = WaNet(s=0).grid(32, 32).abs().amax(-1) < 0.9
    assert float(offsets[inside].abs().mean()) == pytest.approx(1.0, abs=0.5)  # mean(|ins|) = 1


def test_wanet_grid_is_fixed_by_the_seed() -> None:
    assert torch.equal(WaNet(seed=5).grid(32, 32), WaNet(seed=5).grid(32, 32))
    assert not torch.equal(WaNet(seed=5).grid(32, 32), WaNet(seed=6).grid(32, 32))
    attack = WaNet()
    assert attack.grid(16, 16) is attack.grid(16, 16)  # built once per size


def test_wanet_identity_warp_returns_the_image() -> None:
    x = random_images(3, 32, 24)
    assert torch.equal(create("wanet", s=0).apply(x), x)
    assert torch.equal(create("wanet").apply(constant(100)), constant(100))


def test_wanet_warp_is_rounded_grid_sample() -> None:
    x = random_images(5)
    attack = WaNet()
    out = attack.apply(x)
    warped = F.grid_sample(
        x.float() / 255, attack.grid(32, 32).expand(5, -1, -1, -1), align_corners=True
    )
    assert torch.equal(out, (warped * 255).round().to(torch.uint8))
    assert not torch.equal(out, x)
    assert torch.equal(attack.apply(x, train=False), out)  # CBD: the same warp at test time
    assert attack.params() == {
        "label_rule": "all-to-one",
        "k": 4,
        "s": 0.5,
        "grid_rescale": 1.0,
        "seed": 0,
    }


def test_wanet_cross_mode() -> None:
    x = random_images(4)
    attack = WaNet()
    cross = attack.cross(x, torch.Generator().manual_seed(1))
    assert cross.shape == x.shape and cross.dtype == torch.uint8
    assert not torch.equal(cross, attack.apply(x))
    assert torch.equal(attack.cross(x, torch.Generator().manual_seed(1)), cross)
    assert not torch.equal(attack.cross(x, torch.Generator().manual_seed(2)), cross)
    same = x[:1].expand(2, -1, -1, -1)
    twins = attack.cross(same, torch.Generator().manual_seed(1))
    assert not torch.equal(twins[0], twins[1])  # fresh noise per image
    with pytest.raises(ValueError, match=r"wanet cross needs a uint8 tensor"):
        attack.cross(x.float(), torch.Generator())
    assert (PC, CROSS_RATIO) == (0.1, 2)


@pytest.mark.parametrize(
    "params",
    [{"k": 0}, {"s": -0.5}, {"s": math.inf}, {"grid_rescale": 0}, {"seed": -1}, {"k": 2.0}],
)
def test_wanet_bad_parameters(params: dict) -> None:
    with pytest.raises(ValueError, match="wanet"):
        create("wanet", **params)
