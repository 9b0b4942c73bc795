"""The secure-training (ST) module of D-ST (docs/methods/dst-dbr.md §3.3).

(a) extractor   the SupCon ResNet-18 and its projection head learn from every image, two SimCLR
                views each, with the semi-supervised contrastive loss (SS-CTL): an image the SD
                module calls clean has every same-label image as a positive, any other image only
                its own second view. SGD 0.5, batch 512, cosine to 5e-4 per epoch after a
                per-step linear warm-up from 0.01 over the first 10 epochs;
(b) classifier  the encoder frozen in eval mode; only the linear layer learns, on the clean and
                poisoned parts (not the uncertain one) under the same strong augmentation, with
                the mixed cross-entropy (lambda 0.001), SGD 5 constant, batch 512.

The poster's ablation is ``STConfig.contrast``: "ctl" (every image its own class), "s-ctl" (every
image supervised by its label) and "ss-ctl" (D-ST).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from unpoison.data import SimCLRAugment
from unpoison.data.loader import DeviceLoader, epoch_seed
from unpoison.losses import supcon_loss
from unpoison.models import Normalized
from unpoison.train import LossMeter, Stage, set_lr, step_lr

from dst_dbr.config import STConfig
from dst_dbr.fct import CLEAN, POISONED, UNCERTAIN
from dst_dbr.mixed_ce import mixed_cross_entropy


def extractor_lr(config: STConfig, epoch: int, step: int, steps: int) -> float:
    """The code's lr at ``step`` of ``steps`` in 0-based ``epoch``: cosine per epoch (its epochs
    count from 1) from the base lr to base * cosine_floor, and in the warm-up epochs a per-step
    line from ``warmup_from`` to the cosine's value at the end of the warm-up."""
    base = config.extractor_sgd.lr
    floor = base * config.cosine_floor

    def cosine(code_epoch: int) -> float:
        return (
            floor
            + (base - floor) * (1 + math.cos(math.pi * code_epoch / config.extractor_epochs)) / 2
        )

    if epoch < config.warmup_epochs:
        done = (step + epoch * steps) / (config.warmup_epochs * steps)
        return config.warmup_from + done * (cosine(config.warmup_epochs) - config.warmup_from)
    return cosine(epoch + 1)


def instance_only(flags: torch.Tensor, contrast: str) -> torch.Tensor:
    """Which images have only their own other view as a positive, per the contrast mode."""
    if contrast == "ctl":
        return torch.ones_like(flags, dtype=torch.bool)
    if contrast == "s-ctl":
        return torch.zeros_like(flags, dtype=torch.bool)
    return flags != CLEAN  # ss-ctl


def train_extractor(
    model: Normalized,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    flags: torch.Tensor,
    config: STConfig,
    *,
    seed: int,
    stage: Stage,
) -> None:
    """Part (a): contrastive training of ``model``'s encoder and projection head on every image."""
    device = images.device
    loader = DeviceLoader(images, labels, config.extractor_batch_size, shuffle=True, seed=seed)
    solo = instance_only(flags.to(device), config.contrast)
    augment = config.augment

    def one_epoch(epoch: int) -> dict[str, float]:
        model.train()
        generator = torch.Generator(device=device)
        generator.manual_seed(epoch_seed(seed + 1, epoch))
        meter = LossMeter(device)
        lr = 0.0
        for step, (x, y, position) in enumerate(loader.epoch(epoch)):
            lr = extractor_lr(config, epoch, step, len(loader))
            set_lr(optimizer, lr)
            views = torch.cat([augment(x, generator), augment(x, generator)])
            views = model.normalize(views.contiguous(memory_format=torch.channels_last))
            projections = model.backbone.forward_projection(views)
            first, second = projections.chunk(2)
            loss = supcon_loss(
                torch.stack([first, second], dim=1),
                y,
                temperature=config.temperature,
                base_temperature=config.base_temperature,
                instance_only=solo[position],
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            meter.add(loss)
        return {"loss": meter.mean(stage.tag, epoch), "lr": lr}

    stage.loop(one_epoch)


def train_classifier(
    model: Normalized,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    flags: torch.Tensor,
    config: STConfig,
    *,
    seed: int,
    stage: Stage,
    evaluate: Callable[[], dict[str, float]] = dict,
) -> None:
    """Part (b): the linear layer on the frozen encoder, with the mixed cross-entropy."""
    device = images.device
    flags = flags.to(device)
    kept = flags != UNCERTAIN
    suspected = flags[kept] == POISONED
    loader = DeviceLoader(
        images[kept], labels[kept], config.classifier_batch_size, shuffle=True, seed=seed
    )
    augment: SimCLRAugment = config.augment
    lr_at = step_lr(config.classifier_sgd.lr, config.classifier_milestones)

    def one_epoch(epoch: int) -> dict[str, float]:
        lr = lr_at(epoch)
        set_lr(optimizer, lr)
        model.eval()  # code: the encoder is frozen in eval mode; fc has no train-mode behaviour
        generator = torch.Generator(device=device)
        generator.manual_seed(epoch_seed(seed + 2, epoch))
        meter = LossMeter(device)
        for x, y, position in loader.epoch(epoch):
            with torch.no_grad():
                views = augment(x, generator).contiguous(memory_format=torch.channels_last)
                features = model.forward_features(views)
            logits = model.forward_head(features)
            loss = mixed_cross_entropy(logits, y, suspected[position], config.poison_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            meter.add(loss)
        return {"loss": meter.mean(stage.tag, epoch), "lr": lr}

    stage.loop(one_epoch, evaluate)
