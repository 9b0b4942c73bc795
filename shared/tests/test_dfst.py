"""DFST: the CycleGAN networks' sizes, the synthetic sunrise light, the generator's training, and
the backdoor its translated images plant on digits."""

from dataclasses import replace

import pytest
import torch
from PIL import Image
from planted_backdoor import assert_planted, train_on_poisoned_digits
from torch import nn
from trigger_images import random_images
from unpoison import attacks, data
from unpoison.attacks.learned.style_domain import folder_images, sunrise_lit
from unpoison.attacks.learned.style_networks import PatchDiscriminator, StyleGenerator
from unpoison.attacks.learned.style_training import StyleTraining, train_style_generator
from unpoison.data.split import Split


def conv(inputs: int, outputs: int, kernel: int) -> int:
    return inputs * outputs * kernel * kernel + outputs


def norm(channels: int) -> int:
    return 2 * channels  # an affine InstanceNorm: a scale and a shift per channel


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_the_generator_has_the_official_layers_at_width_32() -> None:
    w = 32
    expected = (
        conv(3, w, 7) + norm(w)
        + conv(w, 2 * w, 3) + norm(2 * w)
        + conv(2 * w, 4 * w, 3) + norm(4 * w)
        + 2 * (conv(4 * w, 4 * w, 3) + norm(4 * w))  # the one effective residual block
        + conv(4 * w, 2 * w, 3) + norm(2 * w)
        + conv(2 * w, w, 3) + norm(w)
        + conv(w, 3, 7) + norm(3)
    )  # fmt: skip
    assert count(StyleGenerator(3, 32, residual_blocks=1)) == expected == 490_377
    assert count(StyleGenerator(3, 32, residual_blocks=9)) == expected + 8 * (
        2 * (conv(128, 128, 3) + norm(128))
    )


def test_the_patch_discriminator_scores_4x4_patches_of_a_32x32_image() -> None:
    critic = PatchDiscriminator(3, 64)
    expected = (
        conv(3, 64, 4) + conv(64, 128, 4) + norm(128) + conv(128, 256, 4) + norm(256)
        + conv(256, 1, 4)
    )  # fmt: skip
    assert count(critic) == expected
    assert critic(torch.zeros(2, 3, 32, 32)).shape == (2, 1, 4, 4)


def test_the_generator_keeps_the_image_shape_in_minus_one_to_one() -> None:
    out = StyleGenerator(3, 4)(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert out.shape == (2, 3, 32, 32)
    assert out.min() >= -1 and out.max() <= 1


def test_the_sunrise_light_is_warm_follows_the_image_and_is_seeded() -> None:
    dark = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
    bright = torch.full((4, 3, 32, 32), 255, dtype=torch.uint8)
    lit_dark, lit_bright = sunrise_lit(dark, seed=0), sunrise_lit(bright, seed=0)
    red, green, blue = lit_bright.float().mean(dim=(0, 2, 3))
    assert red > green > blue  # orange to yellow
    assert lit_bright.float().mean() > 2 * lit_dark.float().mean()  # the image's light shows
    # the horizon (bottom) is redder than the zenith (top)
    top, bottom = lit_bright[:, :, :4].float(), lit_bright[:, :, -4:].float()
    assert (bottom[:, 0] - bottom[:, 2]).mean() > (top[:, 0] - top[:, 2]).mean()
    assert torch.equal(sunrise_lit(bright, seed=0), lit_bright)
    assert not torch.equal(sunrise_lit(bright, seed=1), lit_bright)
    grey = sunrise_lit(bright[:, :1], seed=0)
    assert grey.shape == (4, 1, 32, 32)


def test_training_turns_the_generator_towards_the_styles_colours() -> None:
    """One short epoch: the untrained generator's output has no colour cast (its last
    InstanceNorm centres every channel); after training, red outweighs blue as in the style."""
    torch.manual_seed(0)
    images = random_images(64, seed=3)
    train = Split(images, torch.arange(64) % 10)
    generator = StyleGenerator(3, 4)

    def warmth() -> float:
        with torch.no_grad():
            out = generator(images.float() / 127.5 - 1)
        return (out[:, 0] - out[:, 2]).mean().item()

    before = warmth()
    config = StyleTraining(
        width=4, discriminator_width=4, epochs=5, batch_size=16, steps_per_epoch=None, lr=1e-2
    )
    train_style_generator(generator, train, sunrise_lit(images, seed=0), config)
    assert abs(before) < 0.05
    assert warmth() > 0.2


def test_dfst_checks_its_settings(tmp_path) -> None:
    with pytest.raises(ValueError, match="all-to-one or all-to-all"):
        attacks.create("dfst", label_rule="clean-label")
    with pytest.raises(FileNotFoundError, match="style folder"):
        attacks.create("dfst", style=tmp_path / "missing")
    with pytest.raises(ValueError, match="divisible by 4"):
        attacks.create("dfst").check_image_shape(3, 30, 30)
    with pytest.raises(ValueError, match="residual_blocks"):
        StyleTraining(residual_blocks=-1)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        StyleTraining(steps_per_epoch=0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        StyleTraining(lr=0.0)
    with pytest.raises(ValueError, match="lambda_cycle"):
        StyleTraining(lambda_cycle=-1.0)


def test_style_images_are_read_from_a_folder_resized_and_greyed_on_request(tmp_path) -> None:
    Image.new("RGB", (40, 20), (200, 100, 0)).save(tmp_path / "a.png")
    Image.new("RGB", (10, 10), (0, 30, 60)).save(tmp_path / "b.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    colour = folder_images(tmp_path, channels=3, size=8)
    assert colour.shape == (2, 3, 8, 8) and colour.dtype == torch.uint8
    assert colour[0, :, 4, 4].tolist() == [200, 100, 0]
    assert folder_images(tmp_path, channels=1, size=8)[0, 0, 4, 4].item() == 100
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        folder_images(empty, 3, 8)


@pytest.mark.slow
def test_translated_digits_plant_a_backdoor(tmp_path) -> None:
    """ABL's rule (10% of all images, all-to-one, target 0) with a tiny generator (width 4, one
    epoch; the mini one measured ASR 100, CA_all 99.2): ASR >= 80% with CA within 5 points of
    the clean mini training's 98.6."""
    digits = data.load("digits")
    attack = attacks.create("dfst", training="mini")
    attack.recipe = replace(attack.recipe, width=4, discriminator_width=4, epochs=1)
    attack.prepare(digits.train, target=0, num_classes=10, seed=0, cache_dir=tmp_path)
    _, backdoored = train_on_poisoned_digits(attack, target=0)
    assert_planted(backdoored)
