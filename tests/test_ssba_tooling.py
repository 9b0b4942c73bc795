"""The SSBA tooling (reproductions/ssba, TensorFlow): the secret, the encoder's size, its export
and the official export format, a short training run, and the cache the core's attack reads."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from unpoison import attacks, data  # before TensorFlow (see reproductions/ssba/ssba_encoder.py)

# isort: split
import tensorflow as tf

SSBA = Path(__file__).resolve().parents[1] / "reproductions" / "ssba"
sys.path.insert(0, str(SSBA))

import ssba_encoder  # noqa: E402
from saved_encoder import SavedEncoder, export_encoder  # noqa: E402
from secret import secret_bits  # noqa: E402
from stegastamp import build_decoder, build_encoder, hide  # noqa: E402
from training import EncoderTraining, learning_rate, train_encoder  # noqa: E402
from unpoison.attacks.paper_presets import DST_DBR  # noqa: E402
from unpoison.attacks.ssba import SSBA as SSBAAttack  # noqa: E402

# docs/attacks.md §8.2: "a" + 6 spaces, its BCH(t=5, prim_poly=137) parity, 4 zero bits
OFFICIAL_SECRET = (
    "0110000100100000001000000010000000100000001000000010000010000110"
    "100100111110000101000111111000000000"
)


def test_the_secret_is_the_official_100_bits() -> None:
    bits = secret_bits()
    assert bits.dtype == np.float32 and bits.shape == (100,)
    assert "".join(str(int(bit)) for bit in bits) == OFFICIAL_SECRET
    with pytest.raises(ValueError, match="at most 7 ASCII characters"):
        secret_bits("too long")


def test_encoder_and_decoder_parameter_counts() -> None:
    # docs/attacks.md §8.4: 1.06 M and 0.44 M parameters at 32 px; hand count in the comments
    assert build_encoder(32, 32).count_params() == 1_060_067
    assert build_decoder(32, 32).count_params() == 441_284
    with pytest.raises(ValueError, match="divisible by 16"):
        build_encoder(30, 30)


def _digits_nhwc(split: data.Split, size: int = 32) -> np.ndarray:
    """Digits as uint8 [N, H, W, 3]; ``size`` 16 drops every other row and column."""
    step = 32 // size
    return split.x[:, :, ::step, ::step].permute(0, 2, 3, 1).numpy()


def test_export_and_reload_give_identical_outputs(tmp_path: Path) -> None:
    tf.keras.utils.set_random_seed(0)
    encoder = build_encoder(32, 32)
    export_encoder(encoder, tmp_path / "encoder")
    loaded = SavedEncoder(tmp_path / "encoder")
    assert loaded.secret_size == 100 and loaded.image_shape == (32, 32, 3)
    image = _digits_nhwc(data.load("digits").test)[:5].astype(np.float32) / 255
    secret = np.stack([secret_bits()] * 5)
    direct, residual = hide(encoder, secret, image)
    out = loaded(secret, image)
    assert np.array_equal(out["stegastamp"], direct.numpy())
    assert np.array_equal(out["residual"], residual.numpy())
    assert np.array_equal(out["stegastamp"], np.clip(image + out["residual"], 0, 1))


def _official_format_encoder(path: Path, size: int) -> None:
    """A frozen TF1 graph saved with simple_save and without variables/, as ISSBA's release:
    residual = 0.05 * (mean(secret) - image)."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        secret = tf.compat.v1.placeholder(tf.float32, [None, 100], name="secret")
        image = tf.compat.v1.placeholder(tf.float32, [None, size, size, 3], name="image")
        scale = tf.compat.v1.get_variable("scale", initializer=tf.constant(0.05))
        mean = tf.reduce_mean(secret, axis=1)[:, None, None, None]
        residual = tf.identity(scale * (mean - image), name="residual")
        tf.clip_by_value(image + residual, 0.0, 1.0, name="stegastamp")
        session.run(tf.compat.v1.global_variables_initializer())
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
            session, graph.as_graph_def(), ["stegastamp", "residual"]
        )
    frozen_graph = tf.Graph()
    with frozen_graph.as_default(), tf.compat.v1.Session(graph=frozen_graph) as session:
        tf.import_graph_def(frozen, name="")
        tensor = frozen_graph.get_tensor_by_name
        tf.compat.v1.saved_model.simple_save(
            session,
            str(path),
            inputs={"secret": tensor("secret:0"), "image": tensor("image:0")},
            outputs={"stegastamp": tensor("stegastamp:0"), "residual": tensor("residual:0")},
        )
    shutil.rmtree(path / "variables", ignore_errors=True)


def test_the_official_frozen_export_format_loads(tmp_path: Path) -> None:
    _official_format_encoder(tmp_path / "issba", 32)
    assert sorted(p.name for p in (tmp_path / "issba").iterdir()) == ["saved_model.pb"]
    loaded = SavedEncoder(tmp_path / "issba")
    image = np.full((2, 32, 32, 3), 0.5, np.float32)
    secret = np.stack([np.ones(100, np.float32), np.zeros(100, np.float32)])
    out = loaded(secret, image)
    assert np.allclose(out["residual"][0], 0.025) and np.allclose(out["residual"][1], -0.025)
    assert np.allclose(out["stegastamp"], image + out["residual"])


def test_a_short_training_run_learns_bits_the_same_way_every_time() -> None:
    digits = data.load("digits")
    recipe = EncoderTraining(steps=200, batch_size=32, lr=3e-4)
    covers, held_out = _digits_nhwc(digits.train), _digits_nhwc(digits.test)
    _, _, quality = train_encoder(covers, held_out, recipe, seed=0)
    # 0.63 measured; chance is 0.5 with a standard deviation of 0.003 over 360 x 100 bits
    assert quality.bit_accuracy > 0.58
    short = EncoderTraining(steps=2, batch_size=8)
    small, small_held_out = _digits_nhwc(digits.train, 16)[:16], _digits_nhwc(digits.test, 16)[:4]
    first, _, _ = train_encoder(small, small_held_out, short, seed=1)
    second, _, _ = train_encoder(small, small_held_out, short, seed=1)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_the_last_steps_run_at_a_tenth_of_the_learning_rate() -> None:
    schedule = learning_rate(EncoderTraining(steps=100, lr=3e-4, final_fraction=0.3))
    rates = [float(schedule(step)) for step in (0, 69, 70, 99)]
    assert np.allclose(rates, [3e-4, 3e-4, 3e-5, 3e-5])
    constant = learning_rate(EncoderTraining(steps=100, lr=3e-4))
    assert np.allclose([float(constant(step)) for step in (0, 99)], [3e-4, 3e-4])
    for final_fraction in (-0.1, 1.0):
        with pytest.raises(ValueError, match="final_fraction"):
            EncoderTraining(steps=100, final_fraction=final_fraction)


def test_the_tool_writes_a_cache_the_core_attack_poisons_with(tmp_path: Path, capsys) -> None:
    out = tmp_path / "ssba"
    assert ssba_encoder.main(["--steps", "2", "--out", str(out)]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["encoder"]["recipe"]["steps"] == 2
    assert record["poison"]["secret"] == OFFICIAL_SECRET
    digits = data.load("digits")
    attack = SSBAAttack(cache=out / "poison.safetensors", encoder=out / "encoder")
    assert attack.params()["encoder_sha256"] == record["poison"]["encoder_sha256"]
    poisoned = DST_DBR.poison(digits.train, attack, num_classes=10, seed=0)
    picked = poisoned.is_poison
    assert (
        int(picked.sum())
        == record["poison"]["train_images"]
        == int(0.1 * (digits.train.y != 0).sum())
    )
    # The poisoned images are the encoder's floor(255 * stegastamp) of the picked ones.
    encoder = SavedEncoder(out / "encoder")
    images = digits.train.x[picked][:4].permute(0, 2, 3, 1).numpy().astype(np.float32) / 255
    stamped = encoder(np.stack([secret_bits()] * 4), images)["stegastamp"]
    expected = torch.from_numpy(np.floor(stamped * 255).astype(np.uint8)).permute(0, 3, 1, 2)
    assert torch.equal(poisoned.x[picked][:4], expected)
    test = attacks.backdoor_test_set(digits.test, attack, 0, 10)
    assert len(test) == record["poison"]["test_images"]
    # A second run reuses the encoder.
    assert ssba_encoder.main(["--out", str(out)]) == 0
    assert "reusing" in capsys.readouterr().out
    assert SSBAAttack(cache=out / "poison.safetensors", encoder=out / "encoder")


def test_a_missing_or_unfit_encoder_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no SavedModel"):
        ssba_encoder.main(["--encoder", str(tmp_path / "none"), "--out", str(tmp_path / "out")])
    larger = tmp_path / "issba-64px"
    _official_format_encoder(larger, 64)
    with pytest.raises(ValueError, match=r"\(64, 64\) images; the digits images are \(32, 32\)"):
        ssba_encoder.main(["--encoder", str(larger), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()
