"""The arithmetic a backbone's feature extractor runs in: fp32, or bf16 autocast.

Under ``compute_precision("bf16")`` every backbone's convolutional body runs under bf16
autocast (weights stay fp32, as do BatchNorm statistics and the optimizer state); the pooled
features come back as fp32, and the linear head, the losses and everything else a method
computes stay in fp32. Outside such a block, or under ``"fp32"``, nothing changes.

bf16 pays where the hardware computes it natively: a CUDA GPU with bf16 support, or a CPU with
AMX or AVX512-BF16 (measured: a WRN-16-1 training step at batch 64 on 2 cores of an AMX CPU,
130 ms in fp32, 45 ms in bf16). Elsewhere it is emulated and slower than fp32, so ``"auto"``
picks bf16 only on such hardware.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch

PRECISIONS = ("fp32", "bf16")
AUTO = "auto"

_BF16_FEATURES: ContextVar[bool] = ContextVar("bf16_features", default=False)


def native_bf16(device: torch.device | str) -> bool:
    """True when ``device`` computes bf16 matrix products in hardware."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.backends.mkldnn.is_available() and (
            torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
        )
    return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``"fp32"`` or ``"bf16"`` as given; ``"auto"`` is bf16 where ``device`` has native bf16."""
    if precision == AUTO:
        return "bf16" if native_bf16(device) else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {(*PRECISIONS, AUTO)}, got {precision!r}")
    return precision


def add_precision_argument(parser: argparse.ArgumentParser, default: str | None, says: str) -> None:
    """``--precision {fp32,bf16,auto}`` with ``default``; ``says`` names that default in --help."""
    parser.add_argument(
        "--precision",
        choices=(*PRECISIONS, AUTO),
        default=default,
        help="the backbones' arithmetic: fp32, bf16 autocast, or auto = bf16 where the device "
        f"computes it natively (default: {says})",
    )


@contextmanager
def compute_precision(precision: str) -> Iterator[None]:
    """Run the backbones' feature extractors in ``precision`` ("fp32" or "bf16") inside."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    token = _BF16_FEATURES.set(precision == "bf16")
    try:
        yield
    finally:
        _BF16_FEATURES.reset(token)


def feature_autocast(device_type: str) -> torch.autocast:
    """The autocast block a backbone wraps its feature extractor in (off under fp32)."""
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=_BF16_FEATURES.get())


def full_precision(x: torch.Tensor) -> torch.Tensor:
    """``x`` as fp32 when autocast made it bf16; any other dtype is left as it is."""
    return x.float() if x.dtype == torch.bfloat16 else x
