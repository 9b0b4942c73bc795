"""D-ST/D-BR's ResNet-18s (docs/methods/dst-dbr.md §3.1) and the input-normalisation wrapper."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from unpoison.models import Backbone, Normalized, create_model
from unpoison.models.resnet import CifarResNet
from unpoison.models.supcon_resnet import SupConResNet

MEAN = (0.4914, 0.4822, 0.4465)  # D-ST/D-BR CIFAR-10
STD = (0.2023, 0.1994, 0.2010)


def count_parameters(model: nn.Module, skip_prefix: str | None = None) -> int:
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if skip_prefix is None or not name.startswith(skip_prefix)
    )


def images(n: int = 2, size: int = 32) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(0))


def layer4_output_shape(model: CifarResNet, x: torch.Tensor) -> tuple[int, ...]:
    shapes: list[tuple[int, ...]] = []
    handle = model.stages[-1].register_forward_hook(
        lambda _module, _inputs, output: shapes.append(tuple(output.shape))
    )
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return shapes[0]


def test_maxpool_variant_count_and_layer4_size() -> None:
    model = create_model("resnet18-cifar-maxpool").eval()
    assert count_parameters(model) == 11_173_962
    assert isinstance(model.max_pool, nn.MaxPool2d)
    assert layer4_output_shape(model, images()) == (2, 512, 2, 2)
    with torch.no_grad():
        assert model.forward_features(images()).shape == (2, 512)
        assert model(images()).shape == (2, 10)


def test_no_maxpool_variant_layer4_size_and_unchanged_state_dict() -> None:
    model = create_model("resnet18-cifar").eval()
    assert layer4_output_shape(model, images()) == (2, 512, 4, 4)
    # the max-pool holds no state, so both variants load each other's checkpoints
    assert model.state_dict().keys() == create_model("resnet18-cifar-maxpool").state_dict().keys()


def test_cifar100_variant_count_and_layers() -> None:
    model = create_model("resnet18-cifar100", num_classes=100).eval()
    assert count_parameters(model) == 11_220_132
    assert model.fc.out_features == 100
    assert layer4_output_shape(model, images()) == (2, 512, 4, 4)
    reference = create_model("resnet18-cifar", num_classes=100)
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()
    }


def test_cifar100_variant_keeps_pytorch_default_conv_init() -> None:
    torch.manual_seed(0)
    default = create_model("resnet18-cifar100").stages[-1][-1].conv2.weight
    torch.manual_seed(0)
    kaiming = create_model("resnet18-cifar").stages[-1][-1].conv2.weight
    fan = 512 * 3 * 3
    # kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), std 1/sqrt(3 fan_in);
    # Kaiming-normal fan_out: std sqrt(2 / fan_out); 2.36 million weights each
    assert default.std().item() == pytest.approx(1 / math.sqrt(3 * fan), rel=0.01)
    assert default.abs().max().item() <= 1 / math.sqrt(fan)
    assert kaiming.std().item() == pytest.approx(math.sqrt(2 / fan), rel=0.01)


def test_supcon_counts_and_projection() -> None:
    model = create_model("resnet18-supcon", num_classes=10).eval()
    assert isinstance(model, SupConResNet)
    assert isinstance(model, Backbone)
    assert count_parameters(model, skip_prefix="fc.") == 11_497_152
    assert count_parameters(model.projection) == 512 * 512 + 512 + 512 * 128 + 128
    assert layer4_output_shape(model, images()) == (2, 512, 4, 4)
    x = images(n=3)
    with torch.no_grad():
        features = model.forward_features(x)
        z = model.forward_projection(x)
        logits = model(x)
    assert features.shape == (3, 512)
    assert logits.shape == (3, 10)
    assert torch.equal(model.forward_head(features), logits)
    assert z.shape == (3, 128)
    assert torch.allclose(z.norm(dim=1), torch.ones(3), atol=1e-5)


def test_supcon_encoder_matches_resnet18_cifar() -> None:
    supcon = create_model("resnet18-supcon").eval()
    plain = create_model("resnet18-cifar").eval()
    encoder_state = {
        k: v for k, v in supcon.state_dict().items() if k.split(".")[0] != "projection"
    }
    plain.load_state_dict(encoder_state)
    x = images()
    with torch.no_grad():
        assert torch.allclose(supcon.forward_features(x), plain.forward_features(x))


@pytest.mark.parametrize("name", ["resnet18-cifar-maxpool", "resnet18-supcon"])
def test_normalized_equals_backbone_on_normalised_input(name: str) -> None:
    backbone = create_model(name).eval()
    model = Normalized(backbone, MEAN, STD).eval()
    x = images()
    manual = torch.stack([(x[:, c] - MEAN[c]) / STD[c] for c in range(3)], dim=1)
    with torch.no_grad():
        assert torch.allclose(model(x), backbone(manual), atol=1e-6)
        features = model.forward_features(x)
        assert torch.allclose(features, backbone.forward_features(manual), atol=1e-6)
        assert torch.equal(model.forward_head(features), backbone.forward_head(features))
    assert model.fc is backbone.fc
    assert model.feature_dim == 512
    assert model.num_classes == 10


def test_normalized_state_dict_round_trip() -> None:
    torch.manual_seed(0)
    source = Normalized(create_model("resnet18-cifar-maxpool"), MEAN, STD)
    torch.manual_seed(1)
    target = Normalized(create_model("resnet18-cifar-maxpool"), (0.5, 0.5, 0.5), (1, 1, 1))
    target.load_state_dict(source.state_dict())
    assert torch.equal(target.mean, source.mean)
    assert torch.equal(target.std, source.std)
    assert torch.equal(target.fc.weight, source.fc.weight)
    assert {"mean", "std", "backbone.fc.weight"} <= source.state_dict().keys()


@pytest.mark.parametrize(
    ("mean", "std"),
    [
        ((0.5, 0.5), (0.2, 0.2, 0.2)),
        ((0.5, 0.5, 0.5), (0.2, 0.2, 0.2, 0.2)),
        ((0.5, 0.5, 0.5), (0.2, 0.0, 0.2)),
        ((0.5, 0.5, 0.5), (0.2, -0.1, 0.2)),
        ((0.5, float("nan"), 0.5), (0.2, 0.2, 0.2)),
        ((0.5, 0.5, 0.5), (0.2, float("inf"), 0.2)),
    ],
)
def test_normalized_rejects_bad_mean_std(mean: tuple[float, ...], std: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="mean and std"):
        Normalized(create_model("resnet18-cifar"), mean, std)


def test_normalized_rejects_uint8_images() -> None:
    model = Normalized(create_model("resnet18-cifar"), MEAN, STD)
    with pytest.raises(ValueError, match=r"expected float images \[N, 3, H, W\]"):
        model(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))


@pytest.mark.parametrize(
    ("name", "width", "count"),
    [
        # width 16: stem 432 + 32, stages 9,344 + 33,088 + 131,712 + 525,568, fc 1,290
        ("resnet18-cifar-maxpool", 16, 701_466),
        # plus the projection head Linear(128, 128) and Linear(128, 128)
        ("resnet18-supcon-maxpool", 16, 701_466 + 2 * (128 * 128 + 128)),
    ],
)
def test_width_scales_every_stage(name: str, width: int, count: int) -> None:
    model = create_model(name, width=width)
    assert model.feature_dim == 8 * width
    assert count_parameters(model) == count
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("width", [0, 8, 15, 16.0])
def test_a_bad_width_is_rejected(width) -> None:
    with pytest.raises(ValueError, match="width must be an int >= 16"):
        create_model("resnet18-cifar", width=width)
