"""T&R's WRN-16-1: the stem/head split, the decoders, the dead BN of the down-sampling blocks."""

import pytest
import torch
from unpoison.models import create_model
from unpoison.models.trap_wide_resnet import TrapWideResNet, reconstruction_decoder


def count(modules) -> int:
    return sum(p.numel() for module in modules for p in module.parameters())


# docs/methods/trap-replace.md §3.2: stem 5 = 100,736 / head 74,890 / decoder 34,339; stem 4 and
# 6 follow from the same blocks (a 64-channel block is 74,112 + 2 BN of 128; the stem-4 decoder is
# ConvT 32->32 k4 (16,416) + ConvT 32->3 k3 (867)).
@pytest.mark.parametrize(
    ("stem_end_block", "stem", "head", "decoder", "stem_shape"),
    [
        (4, 43_008, 132_618, 17_283, (32, 16, 16)),
        (5, 100_736, 74_890, 34_339, (64, 8, 8)),
        (6, 174_848, 778, 34_339, (64, 8, 8)),
    ],
)
def test_split_sizes_and_shapes(stem_end_block, stem, head, decoder, stem_shape) -> None:
    model = create_model("wrn-16-1-tr", stem_end_block=stem_end_block)
    assert (count(model.stem), count(model.head)) == (stem, head)
    assert count([reconstruction_decoder(stem_end_block)]) == decoder
    x = torch.rand(2, 3, 32, 32)
    out = model.forward_stem(x)
    assert out.shape[1:] == stem_shape
    assert reconstruction_decoder(stem_end_block)(out).shape == x.shape
    assert torch.allclose(model.forward_head(model.forward_head_features(out)), model(x))
    assert count(model.head) == sum(p.numel() for p in model.head_parameters())


def test_the_down_sampling_blocks_never_train_their_first_bn() -> None:
    model = create_model("wrn-16-1-tr")
    model(torch.rand(4, 3, 32, 32)).sum().backward()
    dead = [block.bn1.weight.grad for block in model.blocks if not block.uses_bn1]
    live = [block.bn1.weight.grad for block in model.blocks if block.uses_bn1]
    assert len(dead) == 2 and all(grad is None for grad in dead)
    assert len(live) == 4 and all(grad is not None and grad.abs().sum() > 0 for grad in live)


def test_initialisation_follows_the_code() -> None:
    torch.manual_seed(0)
    model = create_model("wrn-16-1-tr")
    assert torch.equal(model.fc.bias, torch.zeros(10))
    assert torch.equal(model.bn.weight, torch.ones(64))
    # Kaiming-normal, fan_out, leaky_relu (slope 0.01 by default): std = gain / sqrt(fan_out)
    weight = model.blocks[5].conv1.weight
    expected = (2 / (1 + 0.01**2)) ** 0.5 / (64 * 9) ** 0.5
    assert weight.std().item() == pytest.approx(expected, rel=0.05)


def test_copy_stem_from_takes_the_stem_and_leaves_the_head() -> None:
    torch.manual_seed(0)
    trained = TrapWideResNet()
    torch.manual_seed(1)
    fresh = TrapWideResNet(head_dropout=0.5)
    head_before = [p.clone() for p in fresh.head_parameters()]
    fresh.copy_stem_from(trained)
    for mine, theirs in zip(fresh.stem, trained.stem, strict=True):
        for key, value in theirs.state_dict().items():
            assert torch.equal(mine.state_dict()[key], value)
    assert all(torch.equal(a, b) for a, b in zip(head_before, fresh.head_parameters(), strict=True))
    with pytest.raises(ValueError, match="stem_end_block"):
        fresh.copy_stem_from(TrapWideResNet(stem_end_block=4))


def test_a_bad_split_is_rejected() -> None:
    with pytest.raises(ValueError, match="stem_end_block"):
        create_model("wrn-16-1-tr", stem_end_block=3)
    with pytest.raises(ValueError, match="stem_end_block"):
        reconstruction_decoder(7)
