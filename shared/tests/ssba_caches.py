"""SSBA caches written from given images, for tests that need the ``ssba`` attack without
TensorFlow: the "encoding" is the inverted image, so every encoded pixel is known, and the
"encoder" is a file of given bytes."""

from pathlib import Path

import torch
from unpoison.attacks.ssba import SSBA, encoder_sha256, save_ssba_cache


def inverted_ssba(images: torch.Tensor, folder: Path, encoder_bytes: bytes = b"encoder") -> SSBA:
    """An ``ssba`` attack whose cache (``folder/cache.safetensors``) maps each of ``images`` to
    ``255 - image``, made by the encoder file ``folder/encoder``."""
    folder.mkdir(parents=True, exist_ok=True)
    encoder = folder / "encoder"
    encoder.write_bytes(encoder_bytes)
    save_ssba_cache(
        folder / "cache.safetensors",
        original=images,
        encoded=255 - images,
        index=torch.arange(len(images)),
        from_test=torch.zeros(len(images), dtype=torch.bool),
        encoder_sha=encoder_sha256(encoder),
        info={"dataset": "test images"},
    )
    return SSBA(cache=folder / "cache.safetensors", encoder=encoder)
