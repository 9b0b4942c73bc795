"""The model registry: shapes, the Backbone contract, exact parameter counts, initialisation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from unpoison.models import MODELS, Backbone, create_model, list_models
from unpoison.models.preact_resnet import PreActBlock
from unpoison.models.wide_resnet import WideResNet

# Parameter counts for 10 classes.
# - wrn-16-1: ABL/CBD WRN-16-1, 175,066 as measured on the official code (docs/methods/abl.md §3.5).
# - wrn-16-2: 691,674, the same construction at twice the width.
# - resnet18-cifar: 11,173,962, the count of huyvnphan's CIFAR ResNet-18
#   (docs/methods/dst-dbr.md §3.1); its max-pool has no parameters, so dropping it keeps the count.
# - preact-resnet18: 11,171,146 for BackdoorBench's PreActResNet18 (no BN between the last block
#   and the pooling), added up by hand:
#     stem conv 3*64*9                                    =      1,728
#     stage 1: 2 x (BN 128 + conv 36,864 + BN 128 + conv 36,864)  =    147,968
#     stage 2: first block 128 + 73,728 + 256 + 147,456 + 1x1 8,192 = 229,760,
#              second block 256 + 147,456 + 256 + 147,456 = 295,424  =    525,184
#     stage 3: 918,272 + 1,180,672                        =  2,098,944
#     stage 4: 3,671,552 + 4,720,640                      =  8,392,192
#     Linear 512*10 + 10                                  =      5,130
#   total 11,171,146 (a final BN-ReLU before pooling would add 2*512 = 1,024: 11,172,170).
# - resnet18-cifar-maxpool: the same count, huyvnphan's network with its max-pool kept.
# - resnet18-cifar100: weiaicunzai's ResNet-18, the resnet18-cifar layers again (11,220,132 at
#   100 classes, checked in test_resnet_variants.py).
# - resnet18-supcon: SupContrast encoder + projection head 11,497,152
#   (docs/methods/dst-dbr.md §3.1), plus the 512*10 + 10 = 5,130 linear classifier: 11,502,282.
# - wrn-16-1-tr: T&R's WRN-16-1, stem 100,736 + head 74,890 for the default split after block 5
#   (docs/methods/trap-replace.md §3.2); the code's stage-1 model adds a 34,339-parameter decoder
#   and an unused 778-parameter BN/linear pair, 210,743 in all.
PARAMETER_COUNTS = {
    "preact-resnet18": 11_171_146,
    "resnet18-cifar": 11_173_962,
    "resnet18-cifar-maxpool": 11_173_962,
    "resnet18-cifar100": 11_173_962,
    "resnet18-supcon": 11_502_282,
    "resnet18-supcon-maxpool": 11_502_282,
    "wrn-16-1": 175_066,
    "wrn-16-2": 691_674,
    "wrn-16-1-tr": 175_626,
}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def images(n: int = 2, size: int = 32) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(0))


def test_registered_names() -> None:
    assert list_models() == sorted(PARAMETER_COUNTS)
    assert MODELS.names() == list_models()


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("num_classes", [10, 43])
def test_backbone_contract(name: str, num_classes: int) -> None:
    model = create_model(name, num_classes=num_classes).eval()
    assert isinstance(model, Backbone)
    x = images()
    with torch.no_grad():
        logits = model(x)
        features = model.forward_features(x)
        assert torch.equal(model.forward_head(features), logits)
    assert logits.shape == (2, num_classes)
    assert features.shape == (2, model.feature_dim)
    assert model.num_classes == num_classes


@pytest.mark.parametrize("name", list_models())
def test_parameter_count(name: str) -> None:
    assert count_parameters(create_model(name, num_classes=10)) == PARAMETER_COUNTS[name]


@pytest.mark.parametrize("name", list_models())
def test_same_seed_same_weights(name: str) -> None:
    torch.manual_seed(0)
    first = create_model(name).state_dict()
    torch.manual_seed(0)
    second = create_model(name).state_dict()
    torch.manual_seed(1)
    other = create_model(name).state_dict()
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert not torch.equal(first["fc.weight"], other["fc.weight"])


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'wrn-16-8'.*preact-resnet18.*wrn-16-1"):
        create_model("wrn-16-8")


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_num_classes_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        create_model("wrn-16-1", num_classes=bad)


@pytest.mark.parametrize("depth", [4, 15])
def test_bad_wrn_depth_rejected(depth: int) -> None:
    with pytest.raises(ValueError, match="6n \\+ 4"):
        WideResNet(depth, 1)


@pytest.mark.parametrize(
    "x",
    [
        torch.zeros(2, 3, 32, 32, dtype=torch.uint8),
        torch.zeros(2, 1, 32, 32),
        torch.zeros(3, 32, 32),
    ],
)
def test_bad_input_rejected(x: torch.Tensor) -> None:
    with pytest.raises(ValueError, match=r"expected float images \[N, 3, H, W\]"):
        create_model("wrn-16-1")(x)


def test_wrn_accepts_other_sizes() -> None:
    model = create_model("wrn-16-1").eval()
    with torch.no_grad():
        assert model(images(size=64)).shape == (2, 10)


def test_wrn_16_1_layout_and_init() -> None:
    torch.manual_seed(0)
    model = create_model("wrn-16-1")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    # stem + 3 groups x 2 blocks x 2 convs + two 1x1 shortcut convs; 2 BN per block + the head BN
    assert len(convs) == 1 + 12 + 2
    assert len(norms) == 12 + 1
    assert [c.kernel_size for c in convs].count((1, 1)) == 2
    assert all(torch.equal(n.weight, torch.ones_like(n.weight)) for n in norms)
    assert all(torch.equal(n.bias, torch.zeros_like(n.bias)) for n in norms)
    assert torch.equal(model.fc.bias, torch.zeros(10))
    # the official init draws conv weights from N(0, sqrt(2 / (k*k*out_channels)));
    # the last 3x3 conv has 64*64*9 = 36,864 weights, so the sample std is within ~1%
    last = model.groups[-1][-1].conv2
    expected_std = math.sqrt(2 / (3 * 3 * last.out_channels))
    assert last.weight.std().item() == pytest.approx(expected_std, rel=0.03)
    assert last.weight.mean().abs().item() < 0.05 * expected_std


def test_width_changing_block_shortcut_reads_preactivated_input() -> None:
    # ABL/CBD (and BackdoorBench): the 1x1 shortcut sees relu(bn1(x)), not the raw x.
    block = PreActBlock(4, 8, stride=2).eval()
    weight = torch.randn(8, 4, 1, 1, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        nn.init.zeros_(block.conv2.weight)  # residual branch off: output = shortcut only
        block.shortcut.weight.copy_(weight)
        x = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(2))
        out = block(x)
    # eval BN with fresh running stats (mean 0, var 1, weight 1, bias 0): x / sqrt(1 + eps)
    expected = F.conv2d(F.relu(x) / math.sqrt(1 + 1e-5), weight, stride=2)
    assert out.shape == (2, 8, 4, 4)
    assert torch.allclose(out, expected, atol=1e-6)
    assert not torch.allclose(out, F.conv2d(x, weight, stride=2), atol=1e-3)
