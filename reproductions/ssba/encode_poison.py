"""Encoding the images an SSBA poison needs and writing them to an SSBA cache (the file the
core's ``ssba`` attack reads; ``unpoison.attacks.ssba``).

The training images are the ones ``unpoison.attacks.poison`` will pick for the given rate, target,
selection and seed; the test images are every non-target one (the triggered test set). Each batch
goes through the encoder with the BCH("a") secret, and ``floor(255 * stegastamp)`` becomes the
poisoned uint8 image, as in the official D-BR code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from saved_encoder import SavedEncoder
from secret import secret_bits
from tqdm import tqdm
from training import to_uint8
from unpoison.attacks import LabelRule, select_poison
from unpoison.attacks.ssba import encoder_sha256, save_ssba_cache
from unpoison.data import ImageDataset

BATCH = 256  # our choice: images per encoder call


def encode_images(encoder: SavedEncoder, images: torch.Tensor, secret: np.ndarray) -> torch.Tensor:
    """uint8 [N, C, H, W] images encoded with ``secret``: uint8 ``floor(255 * stegastamp)``."""
    out = []
    for batch in tqdm(images.split(BATCH), desc="encoding", unit="batch", leave=False):
        floats = batch.permute(0, 2, 3, 1).numpy().astype(np.float32) / 255.0
        stamped = encoder(np.repeat(secret[None], len(batch), axis=0), floats)["stegastamp"]
        out.append(torch.from_numpy(to_uint8(stamped)))
    return torch.cat(out).permute(0, 3, 1, 2).contiguous()


def write_poison_cache(
    encoder_dir: Path,
    dataset: ImageDataset,
    path: Path,
    *,
    rate: float,
    target: int,
    selection: str,
    seed: int,
) -> dict:
    """Encode D-BR's poison of ``dataset`` with the encoder at ``encoder_dir`` into the SSBA
    cache ``path``; returns what the cache records about itself."""
    encoder = SavedEncoder(encoder_dir)
    train, test = dataset.train, dataset.test
    picked = select_poison(train.y, LabelRule.ALL_TO_ONE, rate, target, seed, selection, len(train))
    train_index = picked.nonzero().flatten()
    test_index = (test.y != target).nonzero().flatten()
    original = torch.cat([train.x[train_index], test.x[test_index]])
    height, width = train.image_shape[1:]
    if encoder.image_shape[:2] not in ((height, width), (None, None)):
        raise ValueError(
            f"the encoder at {encoder_dir} takes {encoder.image_shape[:2]} images; "
            f"the {dataset.name} images are {(height, width)}"
        )
    secret = secret_bits()
    if encoder.secret_size != len(secret):
        raise ValueError(
            f"the encoder at {encoder_dir} takes {encoder.secret_size}-bit secrets; SSBA's "
            f"BCH('a') secret has {len(secret)} bits"
        )
    encoded = encode_images(encoder, original, secret)
    sha = encoder_sha256(encoder_dir)
    info = {
        "dataset": dataset.name,
        "secret": "".join(str(int(bit)) for bit in secret),
        "rate": rate,
        "target": target,
        "selection": selection,
        "seed": seed,
        "train_images": len(train_index),
        "test_images": len(test_index),
    }
    save_ssba_cache(
        path,
        original=original,
        encoded=encoded,
        index=torch.cat([train_index, test_index]),
        from_test=torch.cat(
            [
                torch.zeros(len(train_index), dtype=torch.bool),
                torch.ones(len(test_index), dtype=torch.bool),
            ]
        ),
        encoder_sha=sha,
        info=info,
    )
    return {"encoder_sha256": sha, **info}
