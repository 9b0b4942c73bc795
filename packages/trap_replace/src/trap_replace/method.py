"""Trap and Replace (Wang et al., "Training with More Confidence: Mitigating Injected and Natural
Backdoors During Training", NeurIPS 2022; official code: VITA-Group/Trap-and-Replace-Backdoor-
Defense).

The pipeline, as the official code runs it (spec: methods.md §3.1-3.3):

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

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from unpoison.data.loader import DeviceLoader, epoch_seed
from unpoison.data.split import PoisonedSplit, Split
from unpoison.logging import NullLogger, log_poison_examples
from unpoison.metrics import evaluator
from unpoison.models import create_model
from unpoison.models.trap_wide_resnet import TrapWideResNet, reconstruction_decoder
from unpoison.train import (
    LossMeter,
    StageProgress,
    cosine_lr,
    make_adam,
    run_epochs,
    set_lr,
)

from trap_replace.config import TrapReplaceConfig
from trap_replace.cutmix import draw_box, paste
from trap_replace.losses import bait_and_trap_loss, cutmix_loss
from trap_replace.stem_view import log_reconstructions, log_stem_projection

STAGES = ("trap", "replace")


@dataclass
class TrapReplaceResult:
    """What a T&R run returns."""

    model: TrapWideResNet  # the defended model (stem + new head; stage 1's with replace_head off)
    trapped_model: TrapWideResNet  # stage 1's model, its original head included
    # final test metrics of the defended model (empty without a test set) and of stage 1's model
    # ("trapped_" prefix)
    metrics: dict[str, float]
    stage_seconds: dict[str, float] = field(default_factory=dict)


def run(
    poisoned: PoisonedSplit,
    *,
    holdout: Split | None = None,
    num_classes: int,
    config: TrapReplaceConfig | None = None,
    test: Split | None = None,
    backdoor_test: Split | None = None,
    target: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    logger: NullLogger | None = None,
    checkpoint_dir: str | Path | None = None,
    stop_after: str | None = None,
    progress: bool = True,
) -> TrapReplaceResult:
    """Train a model on ``poisoned`` with T&R, replacing its head on the clean ``holdout``.

    ``holdout`` (never poisoned; see ``unpoison.data.split_holdout``) is required unless
    ``config.replace_head`` is off. With ``test``, ``backdoor_test`` and ``target`` every epoch
    is evaluated (CA_all, CA_nontarget, ASR). With ``checkpoint_dir`` the run saves after every
    epoch and a second call with the same directory continues where it stopped.
    ``stop_after="trap"`` ends the run after stage 1.
    """
    config = config or TrapReplaceConfig()
    stages = StageProgress(STAGES, stop_after, checkpoint_dir)
    replacing = config.replace_head
    if replacing and holdout is None:
        raise ValueError("T&R replaces the head on a clean holdout: pass holdout= (a clean Split)")
    device = torch.device(device)
    logger = logger or NullLogger()

    torch.manual_seed(seed)
    trapped = _create(config, num_classes, 0.0, device)
    decoder = reconstruction_decoder(config.stem_end_block).to(device)
    torch.manual_seed(seed + 1)  # ours: the new head's initialisation (see the docstring)
    defended = _create(config, num_classes, config.head_dropout, device)
    defended.requires_grad_(False)
    for parameter in defended.head_parameters():
        parameter.requires_grad_(True)
    modules = {"trapped": trapped, "decoder": decoder, "defended": defended}
    trap_parameters = [*trapped.parameters(), *decoder.parameters()]
    optimizers = {
        "trap": make_adam(trap_parameters, config.trap_adam),
        "replace": make_adam(defended.head_parameters(), config.replace_adam),
    }

    if (saved := stages.resume(device)) is not None:
        saved.restore(modules, optimizers)

    def checkpoint(stage: str) -> Callable[[int], None]:
        return stages.saver(stage, modules, optimizers)

    def metrics(model: nn.Module) -> Callable[[], dict[str, float]]:
        return evaluator(model, test, backdoor_test, target)

    logger.text("trap_replace/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(logger, poisoned, "trap_replace/examples")

    # 1. bait and trap: the whole model and the decoder on the poisoned split.
    if stages.pending("trap"):
        stages.start("trap")
        batches = DeviceLoader(
            poisoned.x,
            poisoned.y,
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
            trapped.train()
            decoder.train()
            meter = LossMeter(device)
            for x, y, _ in batches.epoch(epoch):
                stem = trapped.forward_stem(x)
                logits = trapped.forward_head(trapped.forward_head_features(stem))
                reconstruction = decoder(stem) if config.reconstruct else None
                loss = bait_and_trap_loss(
                    logits, y, reconstruction, x, config.reconstruction_weight, config.tv_weight
                )
                optimizers["trap"].zero_grad(set_to_none=True)
                loss.backward()
                optimizers["trap"].step()
                meter.add(loss)
            if config.reconstruct:
                log_reconstructions(logger, trapped, decoder, poisoned, epoch + 1)
            return {"loss": meter.mean("trap_replace/trap", epoch), "lr": lr_at(epoch)}

        run_epochs(
            stage="trap_replace/trap",
            train_one_epoch=trap_epoch,
            epochs=config.trap_epochs,
            start_epoch=stages.start_epoch("trap"),
            evaluate=metrics(trapped),
            on_epoch_end=checkpoint("trap"),
            logger=logger,
            progress=progress,
        )
        log_stem_projection(logger, trapped, poisoned, "trap_replace/trap/stem", 1)

    # 2. replace: the stem frozen in eval mode, a fresh head trained on the clean holdout.
    if replacing and stages.pending("replace"):
        if stages.start_epoch("replace") == 0:
            defended.copy_stem_from(trapped)
        stages.start("replace")
        holdout_batches = DeviceLoader(
            holdout.x,
            holdout.y,
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
            defended.eval()  # code: only the new head's modules train; the stem's BN is frozen
            for module in defended.head:
                module.train()
            rng = np.random.default_rng(epoch_seed(seed + 2, epoch))
            meter = LossMeter(device)
            for x, y, _ in holdout_batches.epoch(epoch):
                box = draw_box(len(x), x.shape[2], x.shape[3], config.cutmix_beta, rng, device)
                logits = defended(paste(x, box))
                loss = cutmix_loss(
                    logits,
                    y,
                    y[box.permutation],
                    box.kept(x.shape[2], x.shape[3]),
                    config.label_smoothing,
                )
                optimizers["replace"].zero_grad(set_to_none=True)
                loss.backward()
                optimizers["replace"].step()
                meter.add(loss)
            return {"loss": meter.mean("trap_replace/replace", epoch), "lr": lr_at(epoch)}

        run_epochs(
            stage="trap_replace/replace",
            train_one_epoch=replace_epoch,
            epochs=config.replace_epochs,
            start_epoch=stages.start_epoch("replace"),
            evaluate=metrics(defended),
            on_epoch_end=checkpoint("replace"),
            logger=logger,
            progress=progress,
        )

    final = {f"trapped_{k}": v for k, v in metrics(trapped)().items()}
    result_model = defended if replacing else trapped
    if not replacing or stages.pending("replace"):
        final.update(metrics(result_model)())
    return TrapReplaceResult(
        model=result_model, trapped_model=trapped, metrics=final, stage_seconds=stages.seconds
    )


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
