"""The core's ``ssba`` attack: it only reads an SSBA cache, looks images up by their pixels, and
refuses images it does not hold and caches made by another encoder."""

import pytest
import torch
from safetensors.torch import save_file
from ssba_caches import inverted_ssba
from trigger_images import random_images
from unpoison import attacks, data
from unpoison.attacks import LabelRule
from unpoison.attacks.ssba import SSBA, encoder_sha256, read_ssba_cache


def test_apply_returns_each_images_cached_encoding_in_any_order(tmp_path) -> None:
    images = random_images(6, seed=1)
    attack = inverted_ssba(images, tmp_path)
    order = torch.tensor([4, 0, 4, 2])
    assert torch.equal(attack.apply(images[order]), 255 - images[order])
    assert attack.params() == {
        "label_rule": "all-to-one",
        "cache": str(tmp_path / "cache.safetensors"),
        "encoder": str(tmp_path / "encoder"),
        "encoder_sha256": encoder_sha256(tmp_path / "encoder"),
    }


def test_an_image_the_cache_lacks_is_refused(tmp_path) -> None:
    images = random_images(3, seed=1)
    attack = inverted_ssba(images, tmp_path)
    changed = images.clone()
    changed[1, 0, 5, 5] ^= 1  # one pixel differs by one level
    with pytest.raises(ValueError, match="1 of 3 images are not in the SSBA cache"):
        attack.apply(changed)
    with pytest.raises(ValueError, match=r"holds \(3, 32, 32\) images"):
        attack.apply(random_images(1, 16))


def test_a_cache_made_by_another_encoder_is_refused(tmp_path) -> None:
    inverted_ssba(random_images(2), tmp_path)
    made_by = encoder_sha256(tmp_path / "encoder")
    other = tmp_path / "other-encoder"
    other.write_bytes(b"retrained encoder")
    with pytest.raises(ValueError, match=f"made by the encoder with sha256 {made_by}, but"):
        SSBA(cache=tmp_path / "cache.safetensors", encoder=other)


def test_missing_or_foreign_cache_files_are_clear_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="nox -s ssba-encoder"):
        SSBA(cache=tmp_path / "none.safetensors", encoder=tmp_path)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"original": torch.zeros(1, 3, 4, 4, dtype=torch.uint8)}, str(foreign))
    with pytest.raises(ValueError, match="not an SSBA cache: it lacks encoded, from_test, index"):
        read_ssba_cache(foreign)


def test_encoder_sha256_covers_every_file_and_its_name(tmp_path) -> None:
    encoder = tmp_path / "encoder"
    (encoder / "variables").mkdir(parents=True)
    (encoder / "saved_model.pb").write_bytes(b"graph")
    (encoder / "variables" / "variables.index").write_bytes(b"index")
    first = encoder_sha256(encoder)
    assert len(first) == 64 and encoder_sha256(encoder) == first
    (encoder / "variables" / "variables.index").write_bytes(b"other")
    assert encoder_sha256(encoder) != first
    with pytest.raises(ValueError, match="no encoder"):
        encoder_sha256(tmp_path / "missing")


def test_poisoning_digits_with_a_cache_of_the_selected_images(tmp_path) -> None:
    """The flow of the SSBA tooling: select D-BR's poison, cache those images' encodings, then
    poison() with the ssba attack triggers exactly them."""
    train = data.load("digits").train
    picked = attacks.select_poison(
        train.y, LabelRule.ALL_TO_ONE, 0.1, 0, 0, "non-target", len(train)
    )
    attack = inverted_ssba(train.x[picked], tmp_path)
    poisoned = attacks.poison(train, attack, 0.1, 0, seed=0, selection="non-target")
    assert torch.equal(poisoned.is_poison, picked)
    assert torch.equal(poisoned.x[picked], 255 - train.x[picked])
    assert torch.equal(poisoned.x[~picked], train.x[~picked])
    with pytest.raises(ValueError, match="not in the SSBA cache"):
        attacks.poison(train, attack, 0.1, 0, seed=1, selection="non-target")


def test_the_input_digest_follows_the_cache_content(tmp_path) -> None:
    """Reproduction cells key on it: a cache re-encoded by a retrained encoder is a new cell."""
    images = random_images(2)
    inverted_ssba(images, tmp_path)
    params = {"cache": str(tmp_path / "cache.safetensors"), "encoder": str(tmp_path / "encoder")}
    first = SSBA.input_digest(**params)
    assert SSBA.input_digest(**params) == first
    inverted_ssba(images, tmp_path, encoder_bytes=b"retrained encoder")
    assert SSBA.input_digest(**params) != first
    assert attacks.ATTACKS.get("badnets-grid").input_digest() is None
