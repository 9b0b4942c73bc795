"""Trap and Replace (Wang et al., "Trap and Replace: Defending Backdoor Attacks by Trapping Them
into an Easy-to-Replace Subnetwork", NeurIPS 2022; official code:
VITA-Group/Trap-and-Replace-Backdoor-Defense).

The pipeline, as the official code runs it (docs/methods/trap-replace.md §3):

1. trap     train T&R's WRN-16-1 (``wrn-16-1-tr``) on the poisoned split with a light head
            (block 6, BN, pooling, linear) and a decoder that reconstructs the input from the stem:
            CE + 10 MSE + 1 TV, Adam 1e-3 (wd 5e-4), cosine over 200 epochs, batch 256. The
            reconstruction keeps the stem's features general, so the backdoor settles in the head;
2. replace  copy the stem into a model with a fresh head (dropout 0.5 in its block), freeze the
            stem in eval mode (its BatchNorm statistics fixed) and train only the head on the
            defender's clean holdout with CutMix on every batch and label smoothing 0.1, Adam 0.03
            (wd 5e-4), cosine over 100 epochs, batch 64.

The defended model is stem + new head, at the last epoch (the code also keeps the epoch with the
best test accuracy; we never select on the test set). The Table 4 ablations are config switches:
``reconstruct=False`` (no decoder) and ``replace_head=False`` (stage 1's model is the result).

Deliberate differences from the official code: the replacement head is initialised from
``seed + 1``, CutMix draws from a numpy generator seeded by (seed, epoch), and the code's unused
modules (the stage-1 model's spare BN/linear pair, a dropout that never acts) are not built.

The defense reads the poisoned images and labels and the clean holdout; ``y_true`` and
``is_poison`` are used for logging and metrics only.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch
from torch import nn
from unpoison.data.loader import DeviceLoader, epoch_seed
from unpoison.defenses import MODEL, Defense, DefenseResult, Evaluation, RunOptions, TrainingData
from unpoison.defenses.options import ConfigOption, shortcuts
from unpoison.logging import log_poison_examples
from unpoison.models import create_model
from unpoison.models.trap_wide_resnet import TrapWideResNet, reconstruction_decoder
from unpoison.train import LossMeter, cosine_lr, make_adam, set_lr

from trap_replace.config import MINI_VARIANT, TrapReplaceConfig
from trap_replace.cutmix import draw_box, paste
from trap_replace.losses import bait_and_trap_loss, cutmix_loss
from trap_replace.stem_view import log_reconstructions, log_stem_projection

STAGES = ("trap", "replace")


def run(
    data: TrainingData, config: TrapReplaceConfig, evaluation: Evaluation, options: RunOptions
) -> DefenseResult:
    """Train a model on the poisoned split with T&R, replacing its head on the clean holdout
    (required unless ``config.replace_head`` is off). The result holds stage 1's model too
    (``models["trapped"]``, its metrics under "trapped")."""
    replacing, holdout, seed = config.replace_head, data.holdout, options.seed
    if replacing and holdout is None:
        raise ValueError("T&R replaces the head on a clean holdout: the data needs a holdout")
    device, logger = options.torch_device, options.logger
    stages = options.stages(STAGES, prefix="trap_replace")
    torch.manual_seed(seed)
    trapped = _create(config, data.num_classes, 0.0, device)
    decoder = reconstruction_decoder(config.stem_end_block).to(device)
    torch.manual_seed(seed + 1)  # ours: the new head's initialisation (see the docstring)
    defended = _create(config, data.num_classes, config.head_dropout, device)
    defended.requires_grad_(False)
    for parameter in defended.head_parameters():
        parameter.requires_grad_(True)
    optimizers = {
        "trap": make_adam([*trapped.parameters(), *decoder.parameters()], config.trap_adam),
        "replace": make_adam(defended.head_parameters(), config.replace_adam),
    }
    modules = {"trapped": trapped, "decoder": decoder, "defended": defended}
    stages.track(modules, optimizers, device=device)
    logger.text("trap_replace/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(logger, data.poisoned, "trap_replace/examples")

    # 1. bait and trap: the whole model and the decoder on the poisoned split.
    if stage := stages.start("trap", config.trap_epochs):
        batches = DeviceLoader(
            data.poisoned.x,
            data.poisoned.y,
            config.trap_batch_size,
            shuffle=True,
            augment=config.trap_augment,
            seed=seed,
            drop_last=True,
            device=device,
        )
        lr_at = cosine_lr(config.trap_adam.lr, config.trap_epochs)

        def trap_epoch(epoch: int) -> dict[str, float]:
            set_lr(optimizers["trap"], lr_at(epoch))
            loss = train_trap_epoch(trapped, decoder, batches, optimizers["trap"], config, epoch)
            if config.reconstruct:
                log_reconstructions(logger, trapped, decoder, data.poisoned, epoch + 1)
            return {"loss": loss, "lr": lr_at(epoch)}

        stage.loop(trap_epoch, evaluate=evaluation.of(trapped))
        log_stem_projection(logger, trapped, data.poisoned, "trap_replace/trap/stem", 1)

    # 2. replace: the stem frozen in eval mode, a fresh head trained on the clean holdout.
    if replacing and (stage := stages.start("replace", config.replace_epochs)):
        if stage.start_epoch == 0:
            defended.copy_stem_from(trapped)
        batches = DeviceLoader.from_split(
            holdout,
            config.replace_batch_size,
            shuffle=True,
            augment=config.replace_augment,
            seed=seed + 1,
            drop_last=True,
            device=device,
        )
        lr_at = cosine_lr(config.replace_adam.lr, config.replace_epochs)

        def replace_epoch(epoch: int) -> dict[str, float]:
            set_lr(optimizers["replace"], lr_at(epoch))
            rng = np.random.default_rng(epoch_seed(seed + 2, epoch))
            loss = train_replace_epoch(defended, batches, optimizers["replace"], config, epoch, rng)
            return {"loss": loss, "lr": lr_at(epoch)}

        stage.loop(replace_epoch, evaluate=evaluation.of(defended))

    model = defended if replacing else trapped
    groups = {"trapped": evaluation.of(trapped)()}
    if not replacing or options.stop_after != "trap":
        groups[MODEL] = evaluation.of(model)()
    return DefenseResult(model, groups, stages.seconds, models={"trapped": trapped})


def train_trap_epoch(
    trapped: TrapWideResNet,
    decoder: nn.Module,
    batches: DeviceLoader,
    optimizer: torch.optim.Optimizer,
    config: TrapReplaceConfig,
    epoch: int,
) -> float:
    """One stage-1 epoch of the whole model and the decoder; returns the mean loss."""
    trapped.train()
    decoder.train()
    meter = LossMeter(batches.device)
    for x, y, _ in batches.epoch(epoch):
        stem = trapped.forward_stem(x)
        logits = trapped.forward_head(trapped.forward_head_features(stem))
        reconstruction = decoder(stem) if config.reconstruct else None
        loss = bait_and_trap_loss(
            logits, y, reconstruction, x, config.reconstruction_weight, config.tv_weight
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        meter.add(loss)
    return meter.mean("trap_replace/trap", epoch)


def train_replace_epoch(
    defended: TrapWideResNet,
    batches: DeviceLoader,
    optimizer: torch.optim.Optimizer,
    config: TrapReplaceConfig,
    epoch: int,
    rng: np.random.Generator,
) -> float:
    """One stage-2 epoch of the new head with CutMix on every batch; returns the mean loss."""
    defended.eval()  # code: only the new head's modules train; the stem's BN is frozen
    for module in defended.head:
        module.train()
    meter = LossMeter(batches.device)
    for x, y, _ in batches.epoch(epoch):
        box = draw_box(len(x), x.shape[2], x.shape[3], config.cutmix_beta, rng, batches.device)
        logits = defended(paste(x, box))
        loss = cutmix_loss(
            logits, y, y[box.permutation], box.kept(x.shape[2], x.shape[3]), config.label_smoothing
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        meter.add(loss)
    return meter.mean("trap_replace/replace", epoch)


def _create(
    config: TrapReplaceConfig, num_classes: int, head_dropout: float, device: torch.device
) -> TrapWideResNet:
    model = create_model(
        config.model,
        num_classes=num_classes,
        stem_end_block=config.stem_end_block,
        head_dropout=head_dropout,
    )
    if not isinstance(model, TrapWideResNet):
        raise ValueError(f"T&R needs a stem/head model such as 'wrn-16-1-tr', got {config.model!r}")
    return model.to(device)


TITLE = "Trap and Replace (Wang et al., NeurIPS 2022)"
SUMMARY = (
    "Trains a network whose stem also feeds an image-reconstruction decoder, so that the "
    "backdoor is trapped in its small head, then freezes the stem and trains a fresh head on the "
    "defender's clean holdout."
)
VARIANTS = {"code": TrapReplaceConfig(), "mini": MINI_VARIANT}
# code: ratio_holdout 0.05; mini: 20% of digits (reproductions/trap_replace/presets.py)
HOLDOUT = {"code": 0.05, "mini": 0.2}
OPTIONS = (
    *shortcuts(
        "trap_epochs", "replace_epochs", "trap_batch_size", "replace_batch_size", "stem_end_block"
    ),
    ConfigOption("no-reconstruction", "reconstruct", "Table 4: no reconstruction", const=False),
    ConfigOption("keep-head", "replace_head", "Table 4: keep stage 1's head", const=False),
)
DEFENSE = Defense(
    "trap-replace",
    TITLE,
    SUMMARY,
    VARIANTS,
    STAGES,
    run,
    holdout=HOLDOUT,
    options=OPTIONS,
    selection="first-non-target",  # code: the first rate * N non-target images in index order
)
