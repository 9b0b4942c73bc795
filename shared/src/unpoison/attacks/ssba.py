"""SSBA (sample-specific backdoor attack, Li et al., ICCV 2021) as D-BR runs it: each poisoned
image is re-encoded by a StegaStamp encoder that hides the 100-bit BCH code of "a" in it, so the
trigger is an invisible residual that differs from image to image (docs/attacks.md §5.9, §8).

The encoder is a TensorFlow model, and training never imports TensorFlow: the SSBA tooling
(``reproductions/ssba``, ``nox -s ssba-encoder``) encodes the images once and writes an *SSBA
cache*, a safetensors file with each encoded image beside its original and the sha256 of the
encoder that made it. This attack only reads that cache: ``apply`` looks each image up by its
pixels and returns its encoding, so it triggers exactly the images the tooling encoded (the
training images its poison selection picked, and the test images) and refuses any other.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from unpoison.atomic import save_tensors_atomic
from unpoison.attacks.base import Attack, LabelRule, register_attack

_FIELDS = ("original", "encoded", "index", "from_test")
# Our choice: a pixel-weighted sum with weights below 2**31 never overflows int64 for images up to
# 224x224x3 (255 * 2**31 * 150,528 < 2**63); matches are then checked pixel by pixel.
_WEIGHT_SEED, _WEIGHT_BOUND = 0, 2**31


def encoder_sha256(encoder: str | Path) -> str:
    """sha256 of a SavedModel folder (or a single file): every file's relative path and bytes,
    in sorted order."""
    root = Path(encoder)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    if not files:
        raise ValueError(f"no encoder at {root}: expected a SavedModel folder")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root if root.is_dir() else root.parent).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def save_ssba_cache(
    path: Path,
    original: torch.Tensor,
    encoded: torch.Tensor,
    index: torch.Tensor,
    from_test: torch.Tensor,
    encoder_sha: str,
    info: dict[str, Any],
) -> None:
    """Write an SSBA cache: uint8 images [M, C, H, W] before and after encoding, each image's
    index in its split and whether that split is the test one, the encoder's sha256 and ``info``
    (JSON: the dataset, the secret, the selection...)."""
    if original.dtype != torch.uint8 or encoded.dtype != torch.uint8:
        raise ValueError("SSBA cache images must be uint8")
    if original.shape != encoded.shape or original.ndim != 4:
        raise ValueError(
            f"original {tuple(original.shape)} and encoded {tuple(encoded.shape)} must be the "
            "same [M, C, H, W]"
        )
    if len(index) != len(original) or len(from_test) != len(original):
        raise ValueError("index and from_test need one entry per image")
    tensors = {
        "original": original,
        "encoded": encoded,
        "index": index.to(torch.int64),
        "from_test": from_test.to(torch.bool),
    }
    metadata = {"encoder_sha256": encoder_sha, "info": json.dumps(info, sort_keys=True)}
    save_tensors_atomic(Path(path), tensors, metadata)


def read_ssba_cache(
    path: str | Path, tensors: bool = True
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors, metadata) of an SSBA cache, without reading the images if not ``tensors``; a
    clear error if it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no SSBA cache at {path}: encode the images first with `nox -s ssba-encoder` "
            "(see reproductions/ssba/README.md)"
        )
    with safe_open(str(path), framework="pt") as file:
        metadata = file.metadata() or {}
        missing = sorted(set(_FIELDS) - set(file.keys())) + sorted(
            {"encoder_sha256", "info"} - set(metadata)
        )
        if missing:
            raise ValueError(f"{path} is not an SSBA cache: it lacks {', '.join(missing)}")
        read = {name: file.get_tensor(name) for name in _FIELDS} if tensors else {}
    return read, metadata


@register_attack
class SSBA(Attack):
    """The images a StegaStamp encoder produced for this dataset, read from the SSBA cache
    ``cache``. ``encoder`` is that encoder's SavedModel folder: only its bytes are read, to check
    that the cache was made by it (a cache from another encoder is refused)."""

    name = "ssba"
    papers = 'D-BR "SSBA" (ImageNet subset)'
    default_label_rule = LabelRule.ALL_TO_ONE  # code: all2one, target 0

    def __init__(
        self,
        cache: str | Path,
        encoder: str | Path,
        label_rule: LabelRule | str | None = None,
    ) -> None:
        super().__init__(label_rule)
        tensors, metadata = read_ssba_cache(cache)
        sha = encoder_sha256(encoder)
        if metadata["encoder_sha256"] != sha:
            raise ValueError(
                f"SSBA cache {cache} was made by the encoder with sha256 "
                f"{metadata['encoder_sha256']}, but {encoder} has sha256 {sha}: re-encode the "
                "images with this encoder (nox -s ssba-encoder), or name the cache's own encoder"
            )
        self.cache, self.encoder, self.encoder_sha256 = str(cache), str(encoder), sha
        self._original = tensors["original"]
        self._encoded = tensors["encoded"]
        self._keys, self._order = _pixel_keys(self._original).sort()

    def _params(self) -> dict[str, Any]:
        return {"cache": self.cache, "encoder": self.encoder, "encoder_sha256": self.encoder_sha256}

    @classmethod
    def input_digest(cls, **params: Any) -> str | None:
        """sha256 of the cache's encoder digest and description (its metadata, read alone)."""
        _, metadata = read_ssba_cache(params["cache"], tensors=False)
        return hashlib.sha256(json.dumps(metadata, sort_keys=True).encode()).hexdigest()

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        expected = tuple(self._original.shape[1:])
        if (channels, height, width) != expected:
            raise ValueError(
                f"SSBA cache {self.cache} holds {expected} images, got {(channels, height, width)}"
            )

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        images = x.cpu()  # the cache stays on the CPU; only the result moves to x's device
        position = torch.searchsorted(self._keys, _pixel_keys(images))
        candidate = self._order[position.clamp(max=len(self._keys) - 1)]
        found = (self._original[candidate] == images).flatten(1).all(dim=1)
        if not bool(found.all()):
            raise ValueError(
                f"{int((~found).sum())} of {len(x)} images are not in the SSBA cache "
                f"{self.cache}: it holds only the images the SSBA tooling encoded; encode this "
                "dataset with the same poison rate, target and seed"
            )
        return self._encoded[candidate].to(x.device)


def _pixel_keys(x: torch.Tensor) -> torch.Tensor:
    """An int64 key per uint8 image [N, C, H, W]: equal images have equal keys."""
    generator = torch.Generator().manual_seed(_WEIGHT_SEED)
    weights = torch.randint(0, _WEIGHT_BOUND, (x[0].numel(),), generator=generator)
    return (x.flatten(1).to(torch.int64) * weights).sum(dim=1)
