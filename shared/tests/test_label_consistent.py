"""PGD and the label-consistent attacks (D-ST "CL", T&R "LCBA", ABL "CL"): budgets, step counts,
the four-corner stamps on the perturbed images, and the uint8 cast of each paper."""

from dataclasses import replace

import pytest
import torch
from learned_attacks import tiny_prepared
from torch import nn
from trigger_images import constant
from unpoison import attacks, data
from unpoison.attacks.four_corner import stamp_four_corners_dst, stamp_four_corners_flush
from unpoison.attacks.learned.pgd import PGDConfig, pgd_linf
from unpoison.attacks.learned.surrogate import MINI_SURROGATE

CORNERS_DST = [(slice(1, 4), slice(1, 4)), (slice(1, 4), slice(29, 32))]
CORNERS_DST += [(slice(29, 32), slice(1, 4)), (slice(29, 32), slice(29, 32))]
EDGES = (slice(0, 3), slice(29, 32))
CORNERS_FLUSH = [(rows, cols) for rows in EDGES for cols in EDGES]


class CountingLinear(nn.Module):
    """A linear classifier on flattened images that counts its forward passes."""

    def __init__(self, features: int, classes: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(features, classes)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.linear(x.flatten(1))


def outside(mask_regions: list[tuple[slice, slice]], size: int = 32) -> torch.Tensor:
    keep = torch.ones(size, size, dtype=torch.bool)
    for rows, cols in mask_regions:
        keep[rows, cols] = False
    return keep


@pytest.mark.parametrize("clamp", [True, False])
def test_pgd_stays_in_its_budget_and_takes_its_steps(clamp: bool) -> None:
    x = torch.rand(5, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1])
    model = CountingLinear(48)
    config = PGDConfig(eps=0.1, step=0.03, steps=7, clamp=clamp)
    adv = pgd_linf(model, x, y, config, torch.Generator().manual_seed(2))
    assert model.calls == 7
    assert (adv - x).abs().max() <= 0.1 + 1e-6
    assert (adv - x).abs().max() > 0.09  # 7 steps of 0.03 reach the edge of the ball
    if clamp:
        assert adv.min() >= 0 and adv.max() <= 1
    else:
        assert adv.min() < 0 or adv.max() > 1
    loss = nn.functional.cross_entropy
    assert loss(model(adv), y) > loss(model(x), y)  # it ascends the true labels' loss


def test_pgd_without_random_start_takes_exact_sign_steps() -> None:
    x = torch.full((1, 1, 1, 2), 0.5)
    model = CountingLinear(2, classes=2)
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
        model.linear.bias.zero_()
    # The loss of class 0 grows when pixel 0 falls and pixel 1 rises: one step of 0.1 each.
    config = PGDConfig(eps=0.25, step=0.1, steps=2, random_start=False)
    adv = pgd_linf(model, x, torch.tensor([0]), config)
    assert torch.allclose(adv, torch.tensor([[[[0.3, 0.7]]]]))
    config = PGDConfig(eps=0.15, step=0.1, steps=2, random_start=False)
    adv = pgd_linf(model, x, torch.tensor([0]), config)
    assert torch.allclose(adv, torch.tensor([[[[0.35, 0.65]]]]))  # projected onto the ball


def test_pgd_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="eps and step"):
        PGDConfig(eps=0, step=0.1, steps=1)
    with pytest.raises(ValueError, match="steps"):
        PGDConfig(eps=0.1, step=0.1, steps=0)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("networks")


def test_cl_dst_perturbs_without_clamp_wraps_and_stamps_its_inset_corners(cache) -> None:
    attack = tiny_prepared("cl-dst", cache)
    x = constant(0, n=2)
    out = attack.apply(x, train=True)
    assert torch.equal(out, stamp_four_corners_dst(out))  # the corners are exactly the stamp
    rest = out[..., outside(CORNERS_DST)]
    # From 0, PGD moves each value by at most 8/255; the cast truncates and wraps below 0.
    assert set(rest.unique().tolist()) <= set(range(9)) | set(range(248, 256))
    assert (rest >= 248).any() and ((rest > 0) & (rest <= 8)).any()
    assert torch.equal(attack.apply(x, train=False), stamp_four_corners_dst(x))


def test_lcba_clamps_within_16_levels_and_stamps_flush_corners(cache) -> None:
    attack = tiny_prepared("lcba", cache)
    x = constant(250, n=2)
    out = attack.apply(x, train=True)
    assert torch.equal(out, stamp_four_corners_flush(out))
    rest = out[..., outside(CORNERS_FLUSH)].int()
    assert rest.min() >= 250 - 16 and rest.max() <= 255  # clamped, never wrapped
    assert rest.min() < 245  # the budget is 16/255, twice D-ST's
    assert torch.equal(attack.apply(x, train=False), stamp_four_corners_flush(x))


def test_cl_abl_moves_at_most_8_levels(cache) -> None:
    attack = tiny_prepared("cl-abl", cache)
    x = constant(128, n=2)
    rest = attack.apply(x, train=True)[..., outside(CORNERS_DST)].int() - 128
    assert rest.abs().max() <= 8 and rest.abs().max() >= 7


def test_label_consistent_attacks_check_their_settings() -> None:
    with pytest.raises(ValueError, match="unknown lcba training 'fast'; valid: paper, mini"):
        attacks.create("lcba", training="fast")
    with pytest.raises(ValueError, match="call prepare"):
        attacks.create("cl-dst").apply(constant(0), train=True)
    assert attacks.create("cl-abl").params() == {"label_rule": "clean-label", "training": "paper"}
    with pytest.raises(ValueError, match="milestones"):
        replace(MINI_SURROGATE, milestones=(0,))


@pytest.mark.slow
def test_mini_cl_dst_images_fool_its_surrogate(tmp_path) -> None:
    """On digits the mini surrogate classifies the clean target images right and their PGD images
    mostly wrong (measured: 100% and 0% on the first 20 target digits, seed 0)."""
    digits = data.load("digits")
    attack = attacks.create("cl-dst", training="mini")
    attack.prepare(digits.train, target=0, num_classes=10, cache_dir=tmp_path)
    picked = (digits.train.y == 0).nonzero().squeeze(1)[:20]
    clean = digits.train.x[picked]
    perturbed = attack.apply(clean, train=True)
    surrogate = attack.networks["surrogate"]
    with torch.no_grad():
        clean_right = (surrogate(clean.float() / 255).argmax(1) == 0).float().mean()
        perturbed_right = (surrogate(perturbed.float() / 255).argmax(1) == 0).float().mean()
    assert clean_right >= 0.95 and perturbed_right <= 0.5
