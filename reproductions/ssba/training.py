"""Training the StegaStamp encoder and decoder on cover images (docs/attacks.md §8.4).

Each step encodes a batch of cover images with a fresh Bernoulli(0.5) secret per image, adds
Gaussian noise (sigma ``noise_std``) and decodes it. Until the image loss has ramped in, the
decoder reads ``image + residual`` unclipped, as StegaStamp's training graph does: clipping zeroes
the gradient of every saturated pixel, and with the huge residuals of the secret-only phase bit
accuracy then stalls near 92% on digits. Afterwards, with small residuals, it reads the clipped
stegastamp the poison is made of, so that it learns the bits that survive the clip (ours). The
loss is the bits' sigmoid cross-entropy plus ``w`` times the RGB mean square of the residual.
``w`` is 0 (the secret-only phase) until the running bit accuracy passes ``switch_bit_accuracy``
and ``image_loss_delay`` more steps have run, then ramps linearly to ``image_loss_weight`` over
``ramp_steps`` (BackdoorBench's schedule). StegaStamp's perceptual (LPIPS) and critic losses are
left out: LPIPS needs pretrained weights, and both only serve invisibility to a human, which
SSBA-as-poison does not need (BackdoorBench's encoder also uses MSE + BCE).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from stegastamp import build_decoder, build_encoder, hide
from tqdm import tqdm

_RUNNING = 0.98  # our choice: smoothing of the running bit accuracy that ends the secret phase


@dataclass(frozen=True)
class EncoderTraining:
    """Every setting of one encoder training; each value's source in its comment."""

    steps: int
    batch_size: int = 64  # BackdoorBench 64 (StegaStamp 4, for 400-px images)
    lr: float = 1e-4  # Adam, StegaStamp and BackdoorBench
    final_fraction: float = 0.0  # ours: this last part of the steps at lr / 10 (StegaStamp: none)
    image_loss_weight: float = 10.0  # BackdoorBench's final MSE weight
    image_loss_delay: int = 1000  # BackdoorBench l2_loss_await
    ramp_steps: int = 3000  # BackdoorBench l2_loss_ramp
    switch_bit_accuracy: float = 0.9  # BackdoorBench's switch rule
    # ours: a light noise layer suffices for poisoning (docs/attacks.md §8.4)
    noise_std: float = 0.01
    secret_size: int = 100  # StegaStamp base.sh, and the 100-bit BCH("a") secret
    secret_upsample: int = 2  # 32-px images: BackdoorBench's 16x16 projection x2

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.ramp_steps < 1:
            raise ValueError("steps, batch_size and ramp_steps must be positive")
        if not 0 <= self.final_fraction < 1:
            raise ValueError(f"final_fraction must be in [0, 1), got {self.final_fraction}")
        if self.image_loss_delay < 0:
            raise ValueError("image_loss_delay must be >= 0")
        if not 0 < self.switch_bit_accuracy < 1:
            raise ValueError("switch_bit_accuracy must be in (0, 1)")


@dataclass(frozen=True)
class EncoderQuality:
    """How well an encoder hides bits, measured on held-out images."""

    bit_accuracy: float  # decoded bits of random secrets, from the uint8 stegastamps
    psnr: float  # dB, of the uint8 stegastamps against the images (over all their pixels)


def learning_rate(recipe: EncoderTraining) -> keras.optimizers.schedules.LearningRateSchedule:
    """Adam's lr by step: ``recipe.lr``, then ``recipe.lr / 10`` for the last
    ``round(final_fraction * steps)`` steps."""
    final_steps = round(recipe.final_fraction * recipe.steps)
    # The schedule reads the optimizer's step count before the update: step s (0-based) runs at
    # the first value while s <= the boundary.
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [recipe.steps - final_steps - 1], [recipe.lr, recipe.lr / 10]
    )


def to_uint8(images: tf.Tensor) -> np.ndarray:
    """``floor(255 * images)`` as uint8, the official D-BR cast of the stegastamp."""
    return np.floor(np.asarray(images) * 255.0).astype(np.uint8)


def train_encoder(
    covers: np.ndarray,
    held_out: np.ndarray,
    recipe: EncoderTraining,
    seed: int,
    log_dir: Path | None = None,
) -> tuple[keras.Model, keras.Model, EncoderQuality]:
    """Train an encoder and a decoder on uint8 cover images [N, H, W, 3]; return both and their
    quality on the uint8 images ``held_out``. Same seed, same networks (TF op determinism)."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    height, width = covers.shape[1:3]
    encoder = build_encoder(height, width, recipe.secret_size, recipe.secret_upsample)
    decoder = build_decoder(height, width, recipe.secret_size)
    optimizer = keras.optimizers.Adam(learning_rate(recipe))
    variables = encoder.trainable_variables + decoder.trainable_variables
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(image, secret, noise, weight, clip):
        with tf.GradientTape() as tape:
            residual = encoder({"secret": secret, "image": image})
            unclipped = image + residual
            encoded = unclipped + clip * (tf.clip_by_value(unclipped, 0.0, 1.0) - unclipped)
            logits = decoder(encoded + noise)
            secret_loss = bce(secret, logits)
            image_loss = tf.reduce_mean(tf.square(residual))
            loss = secret_loss + weight * image_loss
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        bits = tf.reduce_mean(
            tf.cast(tf.equal(tf.cast(logits > 0, tf.float32), secret), tf.float32)
        )
        return secret_loss, image_loss, bits

    rng = np.random.default_rng(seed)
    writer = tf.summary.create_file_writer(str(log_dir)) if log_dir is not None else None
    images = covers.astype(np.float32) / 255.0
    order, cursor = rng.permutation(len(images)), 0
    running, switched_at = 0.5, None
    bar = tqdm(range(recipe.steps), desc="encoder", unit="step", mininterval=5)
    for index in bar:
        if cursor + recipe.batch_size > len(order):
            order, cursor = rng.permutation(len(images)), 0
        batch = images[order[cursor : cursor + recipe.batch_size]]
        cursor += recipe.batch_size
        secret = rng.integers(0, 2, (len(batch), recipe.secret_size)).astype(np.float32)
        noise = rng.normal(0.0, recipe.noise_std, batch.shape).astype(np.float32)
        if switched_at is None and running > recipe.switch_bit_accuracy:
            switched_at = index
        ramped = 0 if switched_at is None else index - switched_at - recipe.image_loss_delay
        ramp = min(1.0, max(0, ramped) / recipe.ramp_steps)
        weight = recipe.image_loss_weight * ramp
        clip = 1.0 if ramp == 1.0 else 0.0
        secret_loss, image_loss, bits = step(
            batch, secret, noise, tf.constant(weight), tf.constant(clip)
        )
        running = _RUNNING * running + (1 - _RUNNING) * float(bits)
        bar.set_postfix(
            bits=f"{running:.3f}", psnr=f"{_psnr(float(image_loss)):.1f}", refresh=False
        )
        if writer is not None:
            with writer.as_default(step=index):
                tf.summary.scalar("encoder/secret_loss", secret_loss)
                tf.summary.scalar("encoder/image_mse", image_loss)
                tf.summary.scalar("encoder/bit_accuracy", bits)
                tf.summary.scalar("encoder/image_loss_weight", weight)
    quality = measure(encoder, decoder, held_out, recipe.secret_size, seed)
    if writer is not None:
        with writer.as_default(step=recipe.steps):
            tf.summary.scalar("held_out/bit_accuracy", quality.bit_accuracy)
            tf.summary.scalar("held_out/psnr", quality.psnr)
            tf.summary.text("recipe", str(asdict(recipe)))
        writer.close()
    return encoder, decoder, quality


def measure(
    encoder: keras.Model, decoder: keras.Model, images: np.ndarray, secret_size: int, seed: int
) -> EncoderQuality:
    """Bit accuracy and PSNR of the uint8 stegastamps of uint8 ``images`` with random secrets."""
    rng = np.random.default_rng(seed + 1)
    secret = rng.integers(0, 2, (len(images), secret_size)).astype(np.float32)
    floats = images.astype(np.float32) / 255.0
    encoded = to_uint8(hide(encoder, secret, floats)[0]).astype(np.float32) / 255.0
    bits = (np.asarray(decoder(encoded)) > 0).astype(np.float32)
    mse = float(np.mean((encoded - floats) ** 2))
    return EncoderQuality(float(np.mean(bits == secret)), _psnr(mse))


def _psnr(mse: float) -> float:
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)
