"""The StegaStamp encoder and decoder (Tancik et al., CVPR 2020) as SSBA uses them, in Keras 3.

The encoder hides a bit string in an image: a linear residual from a U-Net over the image and a
projected secret, ``stegastamp = clip(image + residual, 0, 1)``. The decoder reads the bits back.
docs/attacks.md §8.3 describes the official 400-px model and §8.4 this small-image version:

- secret projection: Dense(H/u * W/u * 3, ReLU), reshaped and upsampled by ``u`` to the image
  size (official 400 px: 50x50x3 upsampled x8; 32-px images: u = 2, as BackdoorBench);
- inputs shifted by -0.5; the U-Net 32-32-64-128-256 with 2x2 up-convolutions and skip
  connections as in the official ``models.py``, whose unused ``conv10`` is left out; a linear 1x1
  convolution gives the residual;
- decoder: the official stack of stride-2 convolutions, Dense 512, Dense L logits, without the
  spatial transformer (geometric robustness is irrelevant for poisoning).

Image sides must be divisible by 16 (the U-Net's four down-samplings) and by ``u``.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers


def _conv(filters: int, kernel: int = 3, strides: int = 1, activation: str | None = "relu"):
    return layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="same",
        activation=activation,
        kernel_initializer="he_normal",
    )


def build_encoder(
    height: int, width: int, secret_size: int = 100, upsample: int = 2
) -> keras.Model:
    """The encoder: inputs ``secret`` [B, L] in {0, 1} and ``image`` [B, H, W, 3] in [0, 1],
    output the residual [B, H, W, 3] (add it to the image and clip for the stegastamp)."""
    if height % 16 or width % 16 or height % upsample or width % upsample:
        raise ValueError(
            f"the StegaStamp encoder needs image sides divisible by 16 and by the secret's "
            f"upsampling {upsample}, got {height}x{width}"
        )
    secret = keras.Input((secret_size,), name="secret")
    image = keras.Input((height, width, 3), name="image")
    small = (height // upsample, width // upsample, 3)
    projected = layers.Dense(
        small[0] * small[1] * 3, activation="relu", kernel_initializer="he_normal"
    )(secret - 0.5)
    secret_map = layers.UpSampling2D(upsample)(layers.Reshape(small)(projected))
    inputs = layers.Concatenate()([secret_map, image - 0.5])

    conv1 = _conv(32)(inputs)
    conv2 = _conv(32, strides=2)(conv1)
    conv3 = _conv(64, strides=2)(conv2)
    conv4 = _conv(128, strides=2)(conv3)
    conv5 = _conv(256, strides=2)(conv4)
    up6 = _conv(128, kernel=2)(layers.UpSampling2D(2)(conv5))
    conv6 = _conv(128)(layers.Concatenate()([conv4, up6]))
    up7 = _conv(64, kernel=2)(layers.UpSampling2D(2)(conv6))
    conv7 = _conv(64)(layers.Concatenate()([conv3, up7]))
    up8 = _conv(32, kernel=2)(layers.UpSampling2D(2)(conv7))
    conv8 = _conv(32)(layers.Concatenate()([conv2, up8]))
    up9 = _conv(32, kernel=2)(layers.UpSampling2D(2)(conv8))
    conv9 = _conv(32)(layers.Concatenate()([conv1, up9, inputs]))
    residual = _conv(3, kernel=1, activation=None)(conv9)
    return keras.Model({"secret": secret, "image": image}, residual, name="stegastamp_encoder")


def build_decoder(height: int, width: int, secret_size: int = 100) -> keras.Model:
    """The decoder: input an image [B, H, W, 3] in [0, 1], output ``secret_size`` bit logits."""
    image = keras.Input((height, width, 3), name="image")
    x = image - 0.5
    for filters, strides in ((32, 2), (32, 1), (64, 2), (64, 1), (64, 2), (128, 2), (128, 2)):
        x = _conv(filters, strides=strides)(x)
    x = layers.Dense(512, activation="relu", kernel_initializer="he_normal")(layers.Flatten()(x))
    logits = layers.Dense(secret_size)(x)
    return keras.Model(image, logits, name="stegastamp_decoder")


def hide(encoder: keras.Model, secret: tf.Tensor, image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(stegastamp, residual): ``clip(image + residual, 0, 1)`` and the encoder's residual."""
    residual = encoder({"secret": secret, "image": image})
    return tf.clip_by_value(image + residual, 0.0, 1.0), residual
