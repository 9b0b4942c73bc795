"""Compute precision: bf16 autocast inside the backbones' feature extractors, fp32 elsewhere."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from unpoison.models import create_model, precision
from unpoison.models.precision import compute_precision, resolve_precision


def images(n: int = 8) -> torch.Tensor:
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def conv_output_dtypes(model: torch.nn.Module, x: torch.Tensor) -> set[torch.dtype]:
    """The dtypes of every convolution's output during one forward of ``model``."""
    dtypes: set[torch.dtype] = set()
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: dtypes.add(out.dtype))
        for m in model.modules()
        if isinstance(m, torch.nn.Conv2d)
    ]
    model(x)
    for hook in hooks:
        hook.remove()
    return dtypes


def test_fp32_is_the_default_and_leaves_the_model_unchanged() -> None:
    torch.manual_seed(0)
    model = create_model("wrn-16-1").eval()
    x = images()
    assert conv_output_dtypes(model, x) == {torch.float32}
    with compute_precision("fp32"):
        assert torch.equal(model(x), model(x))
        inside = model(x)
    assert torch.equal(inside, model(x))


@pytest.mark.parametrize("name", ["wrn-16-1", "resnet18-cifar", "wrn-16-1-tr"])
def test_bf16_runs_the_convolutions_in_bf16_and_returns_fp32(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name).eval()
    x = images()
    reference = model.forward_features(x)
    with compute_precision("bf16"):
        assert conv_output_dtypes(model, x) == {torch.bfloat16}
        features = model.forward_features(x)
        logits = model(x)
    assert features.dtype == logits.dtype == torch.float32
    assert not torch.equal(features, reference)
    # bf16 keeps 8 bits of mantissa: the features agree to a few percent of their scale
    assert (features - reference).abs().max() < 0.05 * reference.abs().max()
    # the block restores fp32 when it ends
    assert conv_output_dtypes(model, x) == {torch.float32}


def test_bf16_training_keeps_weights_and_gradients_in_fp32() -> None:
    torch.manual_seed(0)
    model = create_model("wrn-16-1")
    with compute_precision("bf16"):
        F.cross_entropy(model(images()), torch.arange(8) % 10).backward()
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {p.grad.dtype for p in model.parameters()} == {torch.float32}
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_auto_picks_bf16_only_where_it_is_native(monkeypatch) -> None:
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)
    assert resolve_precision("auto", "cpu") == "bf16"
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("fp32", "cpu") == "fp32"


def test_unknown_precisions_are_rejected() -> None:
    with pytest.raises(ValueError, match="'fp32', 'bf16', 'auto'"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="'fp32', 'bf16'"), compute_precision("auto"):
        pass


def test_the_trap_models_split_passes_follow_the_precision() -> None:
    torch.manual_seed(0)
    model = create_model("wrn-16-1-tr").eval()
    x = images()
    stem = model.forward_stem(x)
    with compute_precision("bf16"):
        stem_bf16 = model.forward_stem(x)
        head_bf16 = model.forward_head_features(stem)
    assert stem_bf16.dtype == head_bf16.dtype == torch.float32
    assert not torch.equal(stem_bf16, stem)
    assert not torch.equal(head_bf16, model.forward_head_features(stem))


def test_a_double_precision_model_keeps_its_dtype() -> None:
    torch.manual_seed(0)
    model = create_model("wrn-16-1").double().eval()
    assert model(images().double()).dtype == torch.float64
