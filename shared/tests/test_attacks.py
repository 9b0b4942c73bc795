"""Attacks: exact trigger pixels against the official formulas, input checks, the registry."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import unpoison.attacks.base as attack_base
from learned_attacks import tiny_prepared
from PIL import Image
from ssba_caches import inverted_ssba
from trigger_images import constant, random_images, untouched_outside
from unpoison.assets import read_array
from unpoison.attacks import Attack, LabelRule, create, list_attacks
from unpoison.attacks.base import ATTACKS
from unpoison.attacks.learned import LearnedAttack

# Image size each attack is exercised at: the ImageNet grid sits at rows/cols 32-61, and ABL's
# ImageNet noise mask is 224x224.
SIZE = {"badnets-grid-imagenet": 64, "blend-noise-imagenet": 224}
# Fresh noise per image and call: an image's trigger depends on its position in the batch.
PER_CALL_NOISE = {"blend-noise"}
# The test-time trigger differs from the training one.
DIFFERENT_TEST_TRIGGER = {"sig", "blend-noise", "cl-dst", "lcba", "cl-abl", "fc"}
# No trigger of one image: the poisoned images are mixes of two (tested in test_composite).
PAIR_MIXING = {"cba"}
PER_IMAGE = [name for name in list_attacks() if name not in PAIR_MIXING]


@pytest.fixture(scope="session")
def network_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("networks")


@pytest.fixture
def build(request: pytest.FixtureRequest, network_cache: Path) -> Callable[[str], Attack]:
    """Builds any registered attack with default parameters; blend-image gets a random pattern,
    attacks that read trigger files get the assets folder (skipped when there is none), and
    learned attacks are prepared with tiny networks."""

    def make(name: str) -> Attack:
        if issubclass(ATTACKS.get(name), LearnedAttack):
            return tiny_prepared(name, network_cache)
        if name == "blend-image":
            return create(name, image=random_images(1, seed=99)[0])
        if name == "ssba":  # its cache holds the images these tests trigger
            images = torch.cat([images_for(name, n=4), images_for(name, n=7)])
            return inverted_ssba(images, network_cache / "ssba")
        if ATTACKS.get(name).asset_files:
            return create(name, assets=request.getfixturevalue("assets_dir"))
        return create(name)

    return make


def images_for(name: str, n: int = 4, seed: int = 0) -> torch.Tensor:
    return random_images(n, SIZE.get(name, 32), seed=seed)


# ---- registry -------------------------------------------------------------------------------


RULES = {
    "badnets-grid": LabelRule.ALL_TO_ONE,
    "badnets-grid-imagenet": LabelRule.ALL_TO_ONE,
    "badnets-square": LabelRule.ALL_TO_ALL,
    "badnets-square-imagenet": LabelRule.ALL_TO_ONE,
    "badnets-white": LabelRule.ALL_TO_ONE,
    "blend-image": LabelRule.ALL_TO_ONE,
    "blend-kitty": LabelRule.ALL_TO_ONE,
    "blend-kitty-imagenet": LabelRule.ALL_TO_ONE,
    "blend-noise": LabelRule.ALL_TO_ONE,
    "blend-noise-imagenet": LabelRule.ALL_TO_ONE,
    "blend-random": LabelRule.ALL_TO_ONE,
    "blend-strip": LabelRule.ALL_TO_ONE,
    "blend-strip-imagenet": LabelRule.ALL_TO_ONE,
    "cba": LabelRule.ALL_TO_ONE,
    "cl-abl": LabelRule.CLEAN_LABEL,
    "cl-dst": LabelRule.CLEAN_LABEL,
    "dfst": LabelRule.ALL_TO_ONE,
    "dynamic": LabelRule.ALL_TO_ONE,
    "fc": LabelRule.CLEAN_LABEL,
    "l0-invisible": LabelRule.ALL_TO_ONE,
    "lba": LabelRule.ALL_TO_ONE,
    "lcba": LabelRule.CLEAN_LABEL,
    "l2-invisible": LabelRule.ALL_TO_ONE,
    "sig": LabelRule.CLEAN_LABEL,
    "sig-abl": LabelRule.CLEAN_LABEL,
    "sig-cbd": LabelRule.CLEAN_LABEL,
    "sig-stripe": LabelRule.CLEAN_LABEL,
    "smooth": LabelRule.ALL_TO_ONE,
    "ssba": LabelRule.ALL_TO_ONE,
    "trojan-3x3": LabelRule.ALL_TO_ONE,
    "trojan-sq": LabelRule.ALL_TO_ONE,
    "trojan-wm": LabelRule.ALL_TO_ONE,
    "wanet": LabelRule.ALL_TO_ONE,
}


def test_list_attacks_names_every_attack() -> None:
    assert list_attacks() == sorted(RULES)


def test_default_label_rules_and_override() -> None:
    rules = {name: ATTACKS.get(name).default_label_rule for name in list_attacks()}
    assert rules == RULES
    assert create("badnets-grid", label_rule="all-to-all").label_rule is LabelRule.ALL_TO_ALL
    with pytest.raises(ValueError, match="valid rules: all-to-one, all-to-all, clean-label"):
        create("badnets-grid", label_rule="one-to-one")


def test_params_are_resolved() -> None:
    assert create("badnets-square").params() == {"label_rule": "all-to-all", "size": 3}
    assert create("trojan-3x3", overflow="saturate").params() == {
        "label_rule": "all-to-one",
        "overflow": "saturate",
    }
    assert create("sig").params() == {
        "label_rule": "clean-label",
        "delta_train": 40.0,
        "delta_test": 60.0,
        "frequency": 6.0,
    }
    assert create("blend-random", seed=3).params() == {
        "label_rule": "all-to-one",
        "alpha": 0.2,
        "seed": 3,
    }


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("badnets-square", {"size": 0}),
        ("trojan-3x3", {"overflow": "clip"}),
        ("blend-strip", {"alpha": 0.0}),
        ("blend-strip", {"alpha": 1.5}),
        ("blend-random", {"seed": -1}),
        ("sig", {"delta_train": -40}),
        ("sig", {"frequency": float("nan")}),
    ],
)
def test_bad_parameters_raise(name: str, params: dict) -> None:
    with pytest.raises(ValueError, match=name):
        create(name, **params)


# ---- label rules ----------------------------------------------------------------------------


def test_poisoned_labels_per_rule() -> None:
    y = torch.tensor([0, 3, 9, 5])
    assert create("badnets-grid").poisoned_labels(y, 2, 10).tolist() == [2, 2, 2, 2]
    assert create("badnets-square").poisoned_labels(y, 2, 10).tolist() == [1, 4, 0, 6]
    assert create("sig").poisoned_labels(y, 2, 10).tolist() == [0, 3, 9, 5]
    with pytest.raises(ValueError, match=r"target 10 is outside the label range \[0, 10\)"):
        create("badnets-grid").poisoned_labels(y, 10, 10)


# ---- properties every attack must have ------------------------------------------------------


@pytest.mark.parametrize("name", PER_IMAGE)
def test_apply_is_uint8_same_shape_deterministic_and_pure(name: str, build: Callable) -> None:
    attack = build(name)
    x = images_for(name)
    original = x.clone()
    out = attack.apply(x)
    assert out.dtype == torch.uint8
    assert out.shape == x.shape
    assert out.device == x.device
    assert not torch.equal(out, x)
    assert torch.equal(x, original)
    assert torch.equal(build(name).apply(x), out)
    if name not in PER_CALL_NOISE:
        assert torch.equal(attack.apply(x[2:3]), out[2:3])  # no dependence on the rest of the batch
    json.dumps(attack.params())


@pytest.mark.parametrize("name", PER_IMAGE)
def test_chunked_apply_equals_whole_batch(
    name: str, build: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = images_for(name, n=7)
    whole = build(name).apply(x)
    monkeypatch.setattr(attack_base, "_CHUNK", 3)
    assert torch.equal(build(name).apply(x), whole)


@pytest.mark.parametrize("name", list_attacks())
def test_apply_rejects_wrong_dtype_and_rank(name: str, build: Callable) -> None:
    attack = build(name)
    with pytest.raises(ValueError, match=r"uint8 tensor \[N, C, H, W\].*torch.float32"):
        attack.apply(random_images().float())
    with pytest.raises(ValueError, match=r"uint8 tensor \[N, C, H, W\].*\(3, 32, 32\)"):
        attack.apply(random_images()[0])
    with pytest.raises(ValueError, match="ndarray"):
        attack.apply(random_images().numpy())


# ---- BadNets --------------------------------------------------------------------------------


def test_badnets_grid_pixels() -> None:
    x = random_images()
    out = create("badnets-grid").apply(x)
    grid = torch.tensor([[0, 0, 255], [0, 255, 0], [255, 0, 255]], dtype=torch.uint8)
    for channel in range(3):
        assert torch.equal(out[:, channel, 29:32, 29:32], grid.expand(4, 3, 3))
    assert untouched_outside(x, out, [(slice(29, 32), slice(29, 32))])


def test_badnets_grid_sits_in_the_bottom_right_corner_of_any_size() -> None:
    x = constant(7, channels=1, size=5)
    out = create("badnets-grid").apply(x)
    assert out[0, 0].tolist() == [
        [7, 7, 7, 7, 7],
        [7, 7, 7, 7, 7],
        [7, 7, 0, 0, 255],
        [7, 7, 0, 255, 0],
        [7, 7, 255, 0, 255],
    ]
    with pytest.raises(ValueError, match="at least 3x3 pixels, got 2x2"):
        create("badnets-grid").apply(constant(0, size=2))


def test_badnets_square_pixels() -> None:
    x = random_images()
    out = create("badnets-square").apply(x)
    assert bool((out[:, :, 28:31, 28:31] == 255).all())
    assert untouched_outside(x, out, [(slice(28, 31), slice(28, 31))])
    out4 = create("badnets-square", size=4).apply(x)  # T&R "BadNet-White": rows/cols 27-30
    assert bool((out4[:, :, 27:31, 27:31] == 255).all())
    assert untouched_outside(x, out4, [(slice(27, 31), slice(27, 31))])
    with pytest.raises(ValueError, match="at least 5x5 pixels, got 4x4"):
        create("badnets-square", size=4).apply(constant(0, size=4))


# ---- Trojan ---------------------------------------------------------------------------------

# floor(200 + v) mod 256 for the 27 patch values v, by hand (e.g. R[0,0]: 200 + 207.35 = 407.35
# -> 407 - 256 = 151; G[1,1] is 0.0 -> 200 unchanged).
TROJAN_200_WRAP = [
    [[151, 119, 229], [23, 81, 192], [75, 206, 190]],
    [[75, 187, 176], [208, 200, 57], [240, 89, 194]],
    [[125, 64, 123], [70, 232, 90], [204, 5, 190]],
]
# min(255, floor(200 + v)).
TROJAN_200_SATURATE = [
    [[255, 255, 229], [255, 255, 255], [255, 206, 255]],
    [[255, 255, 255], [208, 200, 255], [240, 255, 255]],
    [[255, 255, 255], [255, 232, 255], [204, 255, 255]],
]


def test_trojan_wrap_and_saturate_on_constant_200() -> None:
    x = constant(200, n=2)
    wrapped = create("trojan-3x3").apply(x)
    saturated = create("trojan-3x3", overflow="saturate").apply(x)
    assert wrapped[0, :, 25:28, 25:28].tolist() == TROJAN_200_WRAP
    assert saturated[1, :, 25:28, 25:28].tolist() == TROJAN_200_SATURATE
    assert untouched_outside(x, wrapped, [(slice(25, 28), slice(25, 28))])
    assert untouched_outside(x, saturated, [(slice(25, 28), slice(25, 28))])


@pytest.mark.parametrize(
    ("pixel", "wrapped", "saturated"),
    [
        (0, 207, 207),  # 207.35 -> 207
        (48, 255, 255),  # 255.35 -> 255
        (49, 0, 255),  # 256.35 -> 256 wraps to 0
        (255, 206, 255),  # 462.35 -> 462 - 256
    ],
)
def test_trojan_red_corner_pixel(pixel: int, wrapped: int, saturated: int) -> None:
    x = constant(pixel)
    assert create("trojan-3x3").apply(x)[0, 0, 25, 25].item() == wrapped
    assert create("trojan-3x3", overflow="saturate").apply(x)[0, 0, 25, 25].item() == saturated


def test_trojan_rejects_grey_and_small_images() -> None:
    with pytest.raises(ValueError, match="3-channel"):
        create("trojan-3x3").apply(constant(0, channels=1))
    with pytest.raises(ValueError, match="at least 7x7 pixels, got 6x6"):
        create("trojan-3x3").apply(constant(0, size=6))


# ---- Blend ----------------------------------------------------------------------------------


def test_blend_strip_mask_row() -> None:
    mask = create("blend-strip", alpha=1.0).apply(constant(100))  # alpha 1 returns the mask
    assert mask[0, 0, 0, :10].tolist() == [0, 14, 19, 13, 255, 241, 237, 244, 2, 15]
    assert bool((mask == mask[:, :1, :1, :]).all())  # constant down columns and over channels


def test_blend_strip_on_constant_100() -> None:
    # floor(0.8 * 100 + 0.2 * m) for m = 0, 14, 19, 13, 255, 241, 237, 244, 2, 15:
    # 80, 82.8, 83.8, 82.6, 131, 128.2, 127.4, 128.8, 80.4, 83.
    out = create("blend-strip").apply(constant(100))
    assert out[0, 2, 17, :10].tolist() == [80, 82, 83, 82, 131, 128, 127, 128, 80, 83]


def test_blend_strip_formula_equals_the_official_mask_file(assets_dir: Path) -> None:
    official = torch.from_numpy(read_array("abl/signal_cifar10_mask.npy", assets_dir))
    mask = create("blend-strip", alpha=1.0).apply(constant(0))[0, 0]
    assert torch.equal(mask, official)


def test_blend_image_accepts_tensor_array_and_file(tmp_path: Path) -> None:
    pattern = random_images(1, seed=5)[0]
    path = tmp_path / "pattern.png"
    Image.fromarray(pattern.permute(1, 2, 0).numpy()).save(path)
    x = random_images()
    outs = [
        create("blend-image", image=source).apply(x)
        for source in (pattern, pattern.permute(1, 2, 0), pattern.permute(1, 2, 0).numpy(), path)
    ]
    for out in outs[1:]:
        assert torch.equal(out, outs[0])
    assert create("blend-image", image=pattern).params()["image_shape"] == [3, 32, 32]


def test_blend_image_pixels() -> None:
    pattern = torch.zeros(3, 32, 32, dtype=torch.uint8)
    pattern[:, 0, 0] = 255
    pattern[:, 0, 1] = 3
    out = create("blend-image", image=pattern).apply(constant(100))
    # floor(0.8 * 100 + 0.2 * 255) = 131, floor(80 + 0.6) = 80, floor(80 + 0) = 80
    assert out[0, :, 0, :3].tolist() == [[131, 80, 80]] * 3
    grey = create("blend-image", image=pattern[0], alpha=0.5).apply(constant(101))
    assert grey[0, :, 0, :3].tolist() == [[178, 52, 50]] * 3  # floor(50.5 + 127.5) = 178, ...


def test_blend_image_rejects_bad_patterns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="resize the pattern"):
        create("blend-image", image=torch.zeros(3, 16, 16, dtype=torch.uint8)).apply(constant(0))
    with pytest.raises(ValueError, match="uint8"):
        create("blend-image", image=torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match=r"got \(5, 32, 32\)"):
        create("blend-image", image=torch.zeros(5, 32, 32, dtype=torch.uint8))
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        create("blend-image", image=tmp_path / "missing.png")


def test_blend_random_is_one_seeded_grey_pattern() -> None:
    pattern = create("blend-random", alpha=1.0).apply(constant(0))[0]
    assert torch.equal(pattern[0], pattern[1]) and torch.equal(pattern[0], pattern[2])
    assert int(pattern.min()) < 10 and int(pattern.max()) > 245  # uniform over 0..255
    other = create("blend-random", seed=1, alpha=1.0).apply(constant(0))[0]
    assert not torch.equal(pattern, other)
    blended = create("blend-random").apply(constant(100))[0]
    expected = torch.floor(0.8 * 100 + 0.2 * pattern.double()).to(torch.uint8)
    assert torch.equal(blended, expected)


# ---- SIG ------------------------------------------------------------------------------------


def test_sig_train_and_test_amplitudes() -> None:
    x = constant(100)
    train = create("sig").apply(x, train=True)[0, 1, 5]
    test = create("sig").apply(x, train=False)[0, 1, 5]
    # 100 + 40 sin(2 pi c 6 / 32): c=1: +36.96, c=2: +28.28, c=3: -15.31, c=4: -40, c=12: +40;
    # c=16: the float sine of 6 pi is -4.4e-14, and the official code floors 99.99999999999996.
    assert [train[c].item() for c in (0, 1, 2, 3, 4, 12, 16)] == [100, 136, 128, 84, 60, 140, 99]
    # 100 + 60 sin(...): +55.43, +42.43, -22.96, -60, +60, and the same 99 at c=16.
    assert [test[c].item() for c in (0, 1, 2, 3, 4, 12, 16)] == [100, 155, 142, 77, 40, 160, 99]


def test_sig_saturates() -> None:
    assert create("sig").apply(constant(250))[0, 0, 0, :5].tolist() == [250, 255, 255, 234, 210]
    assert create("sig").apply(constant(0))[0, 0, 0, :5].tolist() == [0, 36, 28, 0, 0]


@pytest.mark.parametrize("name", PER_IMAGE)
def test_test_time_trigger_differs_only_where_the_attack_says(name: str, build: Callable) -> None:
    x = images_for(name)
    attack = build(name)
    same = torch.equal(attack.apply(x, train=True), attack.apply(x, train=False))
    assert same == (name not in DIFFERENT_TEST_TRIGGER)
