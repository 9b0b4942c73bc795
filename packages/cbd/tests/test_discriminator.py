"""The discriminator, the MI estimate and the spectral rescaling on tiny tensors, by hand."""

import math

import pytest
import torch
from cbd import Discriminator, mi_estimate, spectral_rescale_
from torch import nn


def test_the_discriminator_has_the_official_size_and_layout() -> None:
    discriminator = Discriminator()  # 64-d features, hidden 64, dropout 0.2
    assert sum(p.numel() for p in discriminator.parameters()) == 8_321
    kinds = [type(layer) for layer in discriminator.net]
    assert kinds == [nn.Dropout, nn.Linear, nn.LeakyReLU, nn.Dropout, nn.Linear]
    assert discriminator(torch.zeros(5, 64), torch.zeros(5, 64)).shape == (5,)


def sum_critic() -> Discriminator:
    """T(r, z) = leaky_relu(r + z) for 1-d features, no dropout."""
    critic = Discriminator(feature_dim=1, hidden=1, dropout=0.0)
    with torch.no_grad():
        critic.net[1].weight.copy_(torch.tensor([[1.0, 1.0]]))
        critic.net[1].bias.zero_()
        critic.net[4].weight.fill_(1.0)
        critic.net[4].bias.zero_()
    return critic


def test_mi_estimate_pairs_each_row_with_the_next_row_as_the_marginal() -> None:
    r = torch.tensor([[1.0], [2.0], [3.0]])
    z = torch.tensor([[-1.0], [-2.0], [4.0]])
    # Joint: r + z = 0, 0, 7 -> mean 7/3. Marginal with z_{(i+1) mod 3} = -2, 4, -1:
    # r + z' = -1, 6, 2 -> leaky 0.01 slope: -0.01, 6, 2 -> mean 7.99/3.
    # (Rolling the other way, z' = 4, -1, -2, would give 5, 1, 1 and an estimate of 0.)
    estimate = mi_estimate(sum_critic(), r, z)
    assert estimate.item() == pytest.approx(0.01 * (7 / 3 - 7.99 / 3))
    assert mi_estimate(sum_critic(), r, z, scale=1.0).item() == pytest.approx(7 / 3 - 7.99 / 3)


def test_dropout_stays_active_in_the_estimate() -> None:
    torch.manual_seed(0)
    discriminator = Discriminator()
    r, z = torch.randn(32, 64), torch.randn(32, 64)
    assert mi_estimate(discriminator, r, z).item() != mi_estimate(discriminator, r, z).item()


def power_iteration_sigma(a: float, b: float, k: int) -> float:
    """sigma of diag(a, b) after k power-iteration steps from ones: u_k ~ (a^2k, b^2k),
    v_k ~ (a^(2k-1), b^(2k-1)), sigma = v W u^T / (|v| |u|)."""
    num = a ** (4 * k) + b ** (4 * k)
    return num / (math.sqrt(a ** (4 * k - 2) + b ** (4 * k - 2)) * math.sqrt(num))


def linear(weight: list[list[float]], bias: list[float]) -> nn.Linear:
    layer = nn.Linear(len(weight[0]), len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer


def test_spectral_rescale_divides_by_the_square_root_of_sigma() -> None:
    # docs/methods/cbd.md §3.3: sigma 4.48 -> divided by 2.117. diag(4.48, 1) converges in 5 steps.
    layer = linear([[4.48, 0.0], [0.0, 1.0]], [3.0, 4.0])
    spectral_rescale_(layer)
    scale = math.sqrt(power_iteration_sigma(4.48, 1.0, 5))
    assert scale == pytest.approx(2.1166, abs=1e-4)
    torch.testing.assert_close(layer.weight, torch.tensor([[4.48 / scale, 0.0], [0.0, 1 / scale]]))
    # The bias [3, 4] is a 2 x 1 matrix with sigma = |b| = 5.
    torch.testing.assert_close(layer.bias, torch.tensor([3.0, 4.0]) / math.sqrt(5.0))


def test_spectral_rescale_runs_exactly_the_given_power_iterations() -> None:
    # diag(1, 0.9) converges slowly, so the estimate tells how many steps ran.
    for iterations in (1, 5):
        layer = linear([[1.0, 0.0], [0.0, 0.9]], [1.0, 0.0])
        spectral_rescale_(layer, iterations=iterations)
        scale = math.sqrt(power_iteration_sigma(1.0, 0.9, iterations))
        assert layer.weight[0, 0].item() == pytest.approx(1 / scale, rel=1e-6)
    assert power_iteration_sigma(1.0, 0.9, 1) != pytest.approx(power_iteration_sigma(1.0, 0.9, 5))


def test_a_rank_one_matrix_and_repeated_rescaling() -> None:
    # [[1, 2], [2, 4]] = (1, 2)^T (1, 2): sigma = 5 after one step.
    layer = linear([[1.0, 2.0], [2.0, 4.0]], [0.0, 2.0])
    spectral_rescale_(layer)
    torch.testing.assert_close(layer.weight, torch.tensor([[1.0, 2.0], [2.0, 4.0]]) / math.sqrt(5))
    # Every call maps sigma to sqrt(sigma): the bias norm goes 2 -> 2^(1/2) -> 2^(1/4).
    spectral_rescale_(layer)
    assert layer.bias.norm().item() == pytest.approx(2**0.25)
