"""Triggers read from the papers' files: official arithmetic, supports, thumbnails, errors."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from trigger_images import random_images
from unpoison.assets import MissingAssetError
from unpoison.attacks.base import LabelRule, create
from unpoison.attacks.invisible import L0Invisible, L2Invisible
from unpoison.attacks.kitty import BlendKitty, BlendKittyImageNet, BlendNoiseImageNet
from unpoison.attacks.smooth import Smooth
from unpoison.attacks.trojan_files import TrojanSquare, TrojanWatermark

# Digests of the Hello Kitty thumbnails as the official libraries make them, HWC arrays in C order:
# D-ST: cv2.resize(matplotlib.image.imread(png) * 255, (w, h)) -> float32;
# T&R: img_as_ubyte(skimage.transform.resize(skimage.io.imread(png), (h, w))) -> uint8.
# Both produced identically by opencv-python-headless 4.10.0 / scikit-image 0.19.3 / scipy 1.11.4 /
# matplotlib 3.11.2 / numpy 1.26.4 and by opencv 5.0.0 / scikit-image 0.26.0 / scipy 1.17.1 /
# numpy 2.4.6 (x86-64).
KITTY_SHA256 = {
    ("bilinear", 32): "4195cafe67c96d67bc30ae11b73e8b264aa1acedf51d4758be41e1a0107636b2",
    ("bilinear", 64): "6f4305ea6f19a97f1dc95856e315092a5b1fcffc6d54afc8e24c7d363d30bf3c",
    ("antialias", 32): "869311eaf1d4af98a9329d22fbaf7073b80f435fe1ea090611cfadad8a60c1cf",
    ("antialias", 64): "683fef47abe458e38bcbdb0f89254c7383496b14faff739f82b13059d9d3f63e",
}


def hwc(x: torch.Tensor) -> np.ndarray:
    """Images [N, C, H, W] as the official code holds them: numpy [N, H, W, C]."""
    return x.permute(0, 2, 3, 1).numpy()


def png(assets_dir: Path, name: str) -> np.ndarray:
    with Image.open(assets_dir / name) as image:
        return np.asarray(image).copy()


def trap_replace_finish(values: np.ndarray) -> np.ndarray:
    """T&R `datasets/cifar.py`: clip the float64 images to [0, 255], then cast to uint8."""
    return np.clip(values, 0, 255).astype(np.uint8)


def changed_pixels(before: torch.Tensor, after: torch.Tensor) -> np.ndarray:
    """(row, col) of the pixels that changed in any image or channel, sorted."""
    return np.argwhere((before != after).any(dim=(0, 1)).numpy())


# ---- Trojan-SQ / Trojan-WM ------------------------------------------------------------------


def test_trojan_sq_matches_trap_replace(assets_dir: Path) -> None:
    x = random_images(8)
    trigger = png(assets_dir, "trap_replace/trojan_8x8.png").astype(np.float64)
    expected = trap_replace_finish(hwc(x).astype(np.float64) + trigger)
    assert np.array_equal(hwc(TrojanSquare(assets=assets_dir).apply(x)), expected)


def test_trojan_sq_changes_only_rows_and_cols_21_to_29(assets_dir: Path) -> None:
    black = torch.zeros(1, 3, 32, 32, dtype=torch.uint8)
    pixels = changed_pixels(black, TrojanSquare(assets=assets_dir).apply(black))
    assert len(pixels) == 81
    assert pixels.min(axis=0).tolist() == [21, 21]
    assert pixels.max(axis=0).tolist() == [29, 29]


def test_trojan_wm_matches_trap_replace_and_saturates(assets_dir: Path) -> None:
    x = random_images(8, seed=1)
    trigger = png(assets_dir, "trap_replace/trojan_wm.png").astype(np.float64)
    expected = trap_replace_finish(hwc(x).astype(np.float64) + trigger)
    assert np.array_equal(hwc(TrojanWatermark(assets=assets_dir).apply(x)), expected)
    white = torch.full((1, 3, 32, 32), 255, dtype=torch.uint8)
    assert torch.equal(TrojanWatermark(assets=assets_dir).apply(white), white)


def test_trojan_wm_imagenet_resizes_with_pil_default_and_wraps(assets_dir: Path) -> None:
    # T&R `datasets/imagenet.py`: Image.open(png).resize((256, 256)) with PIL's default filter,
    # then np.array(img) + np.array(trigger): a uint8 sum that wraps, clip, uint8.
    x = random_images(2, 256, seed=2)
    with Image.open(assets_dir / "trap_replace/trojan_wm.png") as image:
        trigger = np.asarray(image.resize((256, 256)))
    expected = np.clip(hwc(x) + trigger, 0, 255).astype(np.uint8)
    wrapped = TrojanWatermark(overflow="wrap", assets=assets_dir).apply(x)
    assert np.array_equal(hwc(wrapped), expected)
    saturated = TrojanWatermark(assets=assets_dir).apply(x)
    assert int((wrapped != saturated).sum()) > 0  # the two arithmetics really differ here


# ---- l0 / l2 invisible ----------------------------------------------------------------------


def test_l0_invisible_matches_trap_replace(assets_dir: Path) -> None:
    x = random_images(8, seed=3)
    keep = 1 - np.transpose(np.load(assets_dir / "trap_replace/mask.npy"), (1, 2, 0))
    trigger = png(assets_dir, "trap_replace/l0_inv.png").astype(np.float64)
    expected = trap_replace_finish(hwc(x).astype(np.float64) * keep + trigger)
    assert np.array_equal(hwc(L0Invisible(assets=assets_dir).apply(x)), expected)


def test_l0_invisible_replaces_bottom_row_cols_23_to_31(assets_dir: Path) -> None:
    grey = torch.full((1, 3, 32, 32), 128, dtype=torch.uint8)
    out = L0Invisible(assets=assets_dir).apply(grey)
    assert changed_pixels(grey, out).tolist() == [[31, col] for col in range(23, 32)]
    assert out[0, :, 31, 23].tolist() == [0, 0, 0]  # col 23 is masked but the trigger is 0 there
    assert out[0, :, 31, 24].tolist() == [255, 0, 255]  # docs/attacks.md §5.6


def test_l2_invisible_matches_trap_replace(assets_dir: Path) -> None:
    x = random_images(8, seed=4)
    trigger = png(assets_dir, "trap_replace/l2_inv.png").astype(np.float64)
    expected = trap_replace_finish(hwc(x).astype(np.float64) + trigger)
    assert np.array_equal(hwc(L2Invisible(assets=assets_dir).apply(x)), expected)


# ---- Smooth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["cifar10", "gtsrb"])
def test_smooth_matches_trap_replace_normalisation(assets_dir: Path, dataset: str) -> None:
    x = random_images(n=16, seed=5)
    x[0] = 0  # a black image: the stretch spans the trigger alone
    trigger = png(assets_dir, f"trap_replace/smooth_{dataset}.png").astype(np.float64)
    total = hwc(x).astype(np.float64) + trigger
    low = np.min(total, axis=(1, 2, 3), keepdims=True)
    high = np.max(total, axis=(1, 2, 3), keepdims=True)
    expected = trap_replace_finish((total - low) / (high - low) * 255)  # T&R `_normalization`
    out = Smooth(dataset=dataset, assets=assets_dir).apply(x)
    assert np.array_equal(hwc(out), expected)
    assert out.amin(dim=(1, 2, 3)).tolist() == [0] * 16
    assert out.amax(dim=(1, 2, 3)).tolist() == [255] * 16


def test_smooth_constant_sum_gives_black_image(assets_dir: Path) -> None:
    trigger = torch.from_numpy(png(assets_dir, "trap_replace/smooth_cifar10.png"))
    x = (60 - trigger.to(torch.int16)).to(torch.uint8).permute(2, 0, 1)[None]  # img + trigger = 60
    out = Smooth(assets=assets_dir).apply(x)
    assert int(out.count_nonzero()) == 0


# ---- Hello Kitty ----------------------------------------------------------------------------


@pytest.mark.parametrize(("resize", "size"), sorted(KITTY_SHA256))
def test_kitty_thumbnails_equal_the_official_libraries(
    assets_dir: Path, resize: str, size: int
) -> None:
    thumbnail = BlendKitty(resize=resize, assets=assets_dir).thumbnail(size, size)
    data = thumbnail.permute(1, 2, 0).contiguous().numpy().tobytes()
    assert hashlib.sha256(data).hexdigest() == KITTY_SHA256[resize, size]


def test_kitty_thumbnails_differ_where_cv2_aliases(assets_dir: Path) -> None:
    # Pixel (1, 16) of the 32x32 thumbnails: cv2 samples 4 source pixels, skimage averages.
    bilinear = BlendKitty(resize="bilinear", assets=assets_dir).thumbnail(32, 32)
    antialias = BlendKitty(resize="antialias", assets=assets_dir).thumbnail(32, 32)
    assert bilinear.dtype == torch.float32
    assert bilinear[:, 1, 16].tolist() == [0.01171875, 0.01171875, 0.0]
    assert antialias[:, 1, 16].tolist() == [107, 73, 86]


def test_blend_kitty_bilinear_matches_dst(assets_dir: Path) -> None:
    attack = BlendKitty(resize="bilinear", assets=assets_dir)
    x = random_images(8, seed=6)
    kitty = attack.thumbnail(32, 32).permute(1, 2, 0).numpy()  # pinned above
    # D-ST `_kittyTrigger`: (1 - alpha) * uint8 image is float64; alpha * float32 kitty is float32.
    blend = (1 - 0.2) * hwc(x) + np.float32(0.2) * kitty
    expected = np.clip(blend.astype("uint8"), 0, 255)
    assert np.array_equal(hwc(attack.apply(x)), expected)


def test_blend_kitty_antialias_matches_trap_replace(assets_dir: Path) -> None:
    attack = BlendKitty(resize="antialias", assets=assets_dir)
    x = random_images(8, seed=7)
    kitty = attack.thumbnail(32, 32).permute(1, 2, 0).numpy().astype(np.float64)  # pinned above
    expected = trap_replace_finish(0.8 * hwc(x).astype(np.float64) + 0.2 * kitty)
    assert np.array_equal(hwc(attack.apply(x)), expected)


def test_blend_kitty_imagenet_equals_pil_blend(assets_dir: Path) -> None:
    # T&R `datasets/imagenet.py`: Image.open(png).resize((256, 256)); Image.blend(img, kitty, 0.2).
    x = random_images(2, 256, seed=8)
    with Image.open(assets_dir / "trap_replace/blend.png") as image:
        kitty = image.resize((256, 256))
        expected = np.stack(
            [np.asarray(Image.blend(Image.fromarray(i), kitty, 0.2)) for i in hwc(x)]
        )
    assert np.array_equal(hwc(BlendKittyImageNet(assets=assets_dir).apply(x)), expected)


def test_blend_noise_imagenet_matches_abl_blend(assets_dir: Path) -> None:
    x = random_images(2, 224, seed=9)
    mask = np.load(assets_dir / "abl/ImageNet_blend_mask.npy").reshape(224, 224, 1)
    expected = np.clip(((1 - 0.2) * hwc(x) + 0.2 * mask).astype("uint8"), 0, 255)
    attack = BlendNoiseImageNet(assets=assets_dir)
    assert np.array_equal(hwc(attack.apply(x)), expected)
    with pytest.raises(ValueError, match=r"\(224, 224\) mask.*got 32x32"):
        attack.apply(random_images(n=1))


# ---- interface: params, shapes, labels ------------------------------------------------------


def test_params_name_the_file_checksums_not_the_folder(assets_dir: Path) -> None:
    attack = L0Invisible(assets=assets_dir)
    assert attack.params() == {
        "label_rule": "all-to-one",
        "trigger_sha256": "c979bfd3deab944b59f1e3d9172fb56b19bff081d3f596ed61e6fab70e62fc51",
        "mask_sha256": "d8eeee5213e4d1648d358688ac20b0485a55981d85f261c537421bd397200bf3",
    }
    assert BlendKitty(resize="antialias", assets=assets_dir).params() == {
        "label_rule": "all-to-one",
        "resize": "antialias",
        "alpha": 0.2,
        "image_sha256": "e313fb548a8b873d999d50426ebe2752f5512cb9318def33077158589c3b344d",
    }
    assert str(assets_dir) not in repr(Smooth(dataset="gtsrb", assets=assets_dir))


def test_create_passes_the_assets_folder(assets_dir: Path) -> None:
    attack = create("smooth", assets=assets_dir, dataset="gtsrb")
    assert isinstance(attack, Smooth)
    assert attack.params()["trigger_sha256"].startswith("c85ed38c")


def test_32x32_triggers_reject_other_image_sizes(assets_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"trojan-sq.*\(3, 32, 32\), got \(3, 64, 64\)"):
        TrojanSquare(assets=assets_dir).apply(random_images(1, 64))
    with pytest.raises(ValueError, match=r"blend-kitty.*3-channel"):
        BlendKitty(assets=assets_dir).apply(torch.zeros(1, 1, 32, 32, dtype=torch.uint8))


def test_input_is_not_modified(assets_dir: Path) -> None:
    x = random_images(n=2, seed=10)
    before = x.clone()
    for attack in (L0Invisible(assets=assets_dir), Smooth(assets=assets_dir)):
        attack.apply(x)
    assert torch.equal(x, before)


def test_class_metadata() -> None:
    classes = (
        TrojanSquare,
        TrojanWatermark,
        L0Invisible,
        L2Invisible,
        Smooth,
        BlendKitty,
        BlendKittyImageNet,
        BlendNoiseImageNet,
    )
    assert {cls.name: cls.default_label_rule for cls in classes} == {
        name: LabelRule.ALL_TO_ONE
        for name in (
            "trojan-sq",
            "trojan-wm",
            "l0-invisible",
            "l2-invisible",
            "smooth",
            "blend-kitty",
            "blend-kitty-imagenet",
            "blend-noise-imagenet",
        )
    }
    assert Smooth.asset_files == (
        "trap_replace/smooth_cifar10.png",
        "trap_replace/smooth_gtsrb.png",
    )


# ---- missing and corrupted files (no trigger folder needed) ---------------------------------


@pytest.mark.parametrize(
    ("name", "params", "missing"),
    [
        ("trojan-sq", {}, "trap_replace/trojan_8x8.png"),
        ("trojan-wm", {}, "trap_replace/trojan_wm.png"),
        ("l0-invisible", {}, "trap_replace/l0_inv.png"),
        ("l2-invisible", {}, "trap_replace/l2_inv.png"),
        ("smooth", {"dataset": "gtsrb"}, "trap_replace/smooth_gtsrb.png"),
        ("blend-kitty", {}, "effective/hello_kitty.png"),
        ("blend-kitty", {"resize": "antialias"}, "trap_replace/blend.png"),
        ("blend-kitty-imagenet", {}, "trap_replace/blend.png"),
        ("blend-noise-imagenet", {}, "abl/ImageNet_blend_mask.npy"),
    ],
)
def test_missing_file_fails_at_creation_naming_it(
    tmp_path: Path, name: str, params: dict, missing: str
) -> None:
    with pytest.raises(MissingAssetError, match=f"trigger file '{missing}' is not in"):
        create(name, assets=tmp_path, **params)


def test_corrupted_file_fails_its_checksum(tmp_path: Path) -> None:
    (tmp_path / "trap_replace").mkdir()
    (tmp_path / "trap_replace/l2_inv.png").write_bytes(b"not the trigger")
    with pytest.raises(ValueError, match=r"l2_inv.png has sha256 .* must have 138a28d3"):
        L2Invisible(assets=tmp_path)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("smooth", {"dataset": "cifar100"}, "smooth dataset must be one of cifar10, gtsrb"),
        ("blend-kitty", {"resize": "nearest"}, "resize must be one of bilinear, antialias"),
        ("blend-kitty", {"alpha": 1.5}, r"alpha must be a number in \(0, 1\]"),
        ("trojan-wm", {"overflow": "clip"}, "overflow must be one of wrap, saturate"),
    ],
)
def test_bad_parameters_are_rejected(tmp_path: Path, name: str, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create(name, assets=tmp_path, **params)
