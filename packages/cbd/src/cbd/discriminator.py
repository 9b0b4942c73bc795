"""CBD's adversarial mutual-information estimate between f_B's and f_C's features.

The paper (Zhang et al. 2023) minimises I(Z; R) between f_C's representation z and f_B's
r through a discriminator D that maximises E_p(z,r)[D(z, r)] - E_p(z)p(r)[D(z, r)], kept
Lipschitz by spectral normalisation (a WGAN-style critic). As the code builds it
(``DisenEstimator``, docs/methods/cbd.md §3.3):

- D is Dropout -> Linear(128, 64) -> LeakyReLU -> Dropout -> Linear(64, 1) on [r, z], and is
  never put in eval mode, so dropout is active in every use;
- the product of marginals pairs r_i with z_{(i+1) mod B} (a roll by one, not a shuffle);
- the estimate is multiplied by 0.01, the only weight the MI term gets;
- the "spectral normalisation" divides every parameter, biases included (as o x 1 matrices), by
  the square root of its largest singular value from 5 power-iteration steps. Repeated after
  every step, sigma -> sqrt(sigma) drives each parameter's sigma towards 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Discriminator(nn.Module):
    """The critic T(r, z) over concatenated feature pairs; 8,321 parameters for 64-d features."""

    def __init__(self, feature_dim: int = 64, hidden: int = 64, dropout: float = 0.2) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(2 * feature_dim, hidden),
            nn.LeakyReLU(),  # code: F.leaky_relu, slope 0.01
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, z_backdoored: torch.Tensor, z_clean: torch.Tensor) -> torch.Tensor:
        """Scores [B] of the pairs (z_backdoored_i, z_clean_i), each [B, feature_dim]."""
        return self.net(torch.cat([z_backdoored, z_clean], dim=1)).squeeze(1)


def mi_estimate(
    discriminator: Discriminator,
    z_backdoored: torch.Tensor,
    z_clean: torch.Tensor,
    scale: float = 0.01,
) -> torch.Tensor:
    """scale * (mean_i T(r_i, z_i) - mean_i T(r_i, z_{(i+1) mod B})), r = f_B's, z = f_C's features.

    The discriminator maximises it (its loss is the negative); f_C minimises it.
    """
    n = len(z_backdoored)
    shifted = z_clean.roll(-1, dims=0)  # row i holds z_{(i+1) mod B}
    scores = discriminator(torch.cat([z_backdoored, z_backdoored]), torch.cat([z_clean, shifted]))
    return scale * (scores[:n].mean() - scores[n:].mean())


@torch.no_grad()
def spectral_rescale_(module: nn.Module, iterations: int = 5) -> None:
    """Divide every parameter W of ``module`` in place by sqrt(sigma_max(W)), as the code does.

    sigma_max comes from ``iterations`` power-iteration steps started from a ones vector; a bias
    [o] is treated as an o x 1 matrix. No host synchronisation: all on the parameters' device.
    """
    for weight in module.parameters():
        matrix = weight if weight.ndim == 2 else weight.reshape(-1, 1)
        u = torch.ones(1, matrix.shape[1], dtype=matrix.dtype, device=matrix.device)
        for _ in range(iterations):
            v = F.normalize(u @ matrix.T, dim=1)
            u = F.normalize(v @ matrix, dim=1)
        sigma = (v @ matrix @ u.T).squeeze()
        weight.div_(sigma.sqrt())
