"""Recomputing BatchNorm statistics ("precise BN") without touching the weights."""

from __future__ import annotations

import copy

import torch
from torch import nn

from unpoison.data.loader import DeviceLoader


@torch.no_grad()
def recalibrated_copy(model: nn.Module, loader: DeviceLoader) -> nn.Module:
    """A copy of ``model`` whose BatchNorm running statistics are the exact averages over one
    pass of ``loader`` (train-mode forward, no gradient); the copy is returned in eval mode.

    After few optimisation steps per epoch the running averages (momentum 0.1) still mix in
    statistics of much older weights, which makes eval-mode outputs noisy; this removes that lag.
    """
    calibrated = copy.deepcopy(model)
    for module in calibrated.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # None = cumulative average over the pass
    calibrated.train()
    for x, _, _ in loader:
        calibrated(x)
    return calibrated.eval()
