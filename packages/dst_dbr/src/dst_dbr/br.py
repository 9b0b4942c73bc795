"""The backdoor-removal (BR) module of D-BR: unlearn, then relearn (docs/methods/dst-dbr.md
§3.4, step 2).

Each epoch is one pass of gradient ascent on the cross-entropy of the SD module's poisoned part,
then one pass of descent on its clean part, both with the crop-and-flip augmentation, at a
constant lr of 1e-4. The defended model is the last epoch's; the code keeps the epoch with the
best test CA minus ASR, a choice made on the test set, which we never do.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from unpoison.data.loader import DeviceLoader
from unpoison.train import LossMeter, Stage, set_lr

from dst_dbr.config import BRConfig


def unlearn_relearn(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    suspected: tuple[torch.Tensor, torch.Tensor],
    clean: tuple[torch.Tensor, torch.Tensor],
    config: BRConfig,
    *,
    seed: int,
    stage: Stage,
    evaluate: Callable[[], dict[str, float]] = dict,
) -> None:
    """Ascent on ``suspected`` then descent on ``clean`` (each ``(images, labels)``) per epoch."""
    loaders = {
        name: DeviceLoader(
            x, y, config.batch_size, shuffle=True, augment=config.augment, seed=seed + offset
        )
        for offset, (name, (x, y)) in enumerate((("ascent", suspected), ("descent", clean)))
    }
    sign = {"ascent": -1.0, "descent": 1.0}

    def one_epoch(epoch: int) -> dict[str, float]:
        set_lr(optimizer, config.sgd.lr)  # code: forced to 1e-4 every epoch
        model.train()
        values: dict[str, float] = {"lr": config.sgd.lr}
        for name, loader in loaders.items():
            meter = LossMeter(loader.device)
            for x, y, _ in loader.epoch(epoch):
                loss = F.cross_entropy(model(x), y)
                optimizer.zero_grad(set_to_none=True)
                (sign[name] * loss).backward()
                optimizer.step()
                meter.add(loss)
            values[f"{name}_ce"] = meter.mean(f"{stage.tag}/{name}", epoch)
        return values

    stage.loop(one_epoch, evaluate)
