"""Exporting the StegaStamp encoder as a SavedModel, and loading one: ours, or the official ISSBA
release format.

Both have a ``serving_default`` signature that takes ``secret`` [B, L] and ``image`` [B, H, W, 3]
(float32, images in [0, 1]) and returns ``stegastamp`` (= clip(image + residual, 0, 1)) and
``residual``. Ours is a TF2 SavedModel with variables; the official export is a frozen TF1 graph in
a single ``saved_model.pb`` (docs/attacks.md §8.3). ``tf.saved_model.load`` reads both, while
the TF1 loader the D-BR code uses cannot read TF2 variables, so loading goes through it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from stegastamp import hide


def export_encoder(encoder: keras.Model, path: Path) -> None:
    """Save ``encoder`` as a SavedModel folder at ``path`` (written aside, then renamed in)."""
    secret_size = encoder.input["secret"].shape[-1]
    height, width = encoder.input["image"].shape[1:3]
    module = tf.Module()
    module.encoder = encoder

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, secret_size], tf.float32, name="secret"),
            tf.TensorSpec([None, height, width, 3], tf.float32, name="image"),
        ]
    )
    def serve(secret, image):
        encoded, residual = hide(encoder, secret, image)
        return {"stegastamp": encoded, "residual": residual}

    module.serve = serve
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        tf.saved_model.save(module, str(staging), signatures={"serving_default": serve})
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class SavedEncoder:
    """A StegaStamp encoder loaded from a SavedModel folder (ours or the official format)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not (path / "saved_model.pb").is_file():
            raise FileNotFoundError(f"no SavedModel at {path}: expected {path / 'saved_model.pb'}")
        self._model = tf.saved_model.load(str(path))  # the signature needs it alive
        signatures = self._model.signatures
        if "serving_default" not in signatures:
            raise ValueError(f"{path} has no serving_default signature")
        self._serve = signatures["serving_default"]
        inputs = self._serve.structured_input_signature[1]
        outputs = set(self._serve.structured_outputs)
        if {"secret", "image"} - set(inputs) or {"stegastamp", "residual"} - outputs:
            raise ValueError(
                f"{path}'s serving_default must take secret and image and return stegastamp and "
                f"residual; it takes {sorted(inputs)} and returns {sorted(outputs)}"
            )
        self.path = path
        self.secret_size = int(inputs["secret"].shape[-1])
        self.image_shape = tuple(inputs["image"].shape[1:])  # (H, W, 3), None where free

    def __call__(self, secret: np.ndarray, image: np.ndarray) -> dict[str, np.ndarray]:
        """``stegastamp`` and ``residual`` for float32 ``secret`` [B, L] and ``image``
        [B, H, W, 3] in [0, 1]."""
        out = self._serve(
            secret=tf.constant(secret, tf.float32), image=tf.constant(image, tf.float32)
        )
        return {name: out[name].numpy() for name in ("stegastamp", "residual")}
