"""Causality-inspired Backdoor Defense (Zhang et al., "Backdoor Defense via Deconfounded
Representation Learning", CVPR 2023; official code: github.com/zaixizhang/CBD).

The pipeline, as the official code runs it (spec: methods.md 2.1-2.3):

1. backdoored  train f_B with plain cross-entropy on the poisoned, augmented split for 5 epochs
               (backdoors are learned faster than the clean task), then freeze it in eval mode;
2. clean       train a fresh f_C for 100 epochs. Each epoch, when ``disentangle`` is on, first one
               full pass that trains only the discriminator (Adam, maximising the MI estimate
               between f_B's and f_C's detached features, spectral rescaling after every step),
               then the main pass: every example's cross-entropy is weighted by
               l_B / (l_B + l_C), rescaled to mean 1 per batch, so the examples f_B fits best
               (the poisoned ones) count least; with ``disentangle`` the MI estimate is added and
               minimised by f_C.

Only f_C is returned as the defended model; the reported numbers are its last epoch's (no
selection on the test set).

Deliberate differences from the official code:
- f_C is initialised from ``seed + 1`` and the discriminator from ``seed + 2`` (the code draws
  all three from one unseeded stream); the poisoned selection is seeded;
- the discriminator pass computes f_C's features without building a graph (the code builds and
  discards one); f_C is in train mode there, as in the code, so its BatchNorm statistics move;
- the discriminator's StepLR is a pure function of the epoch (``CbdConfig.discriminator_lr_at``)
  with the code's values, so a resumed run sets the same learning rate;
- the paper's L2 regularisation of z (its beta * I(Z; X) term) is in neither the code's
  loss nor ours.
``CbdConfig.backdoored_schedule = "code"`` (the default) keeps the code's bug: f_B's lr stays at
0.1 because the per-epoch lr setter is applied to f_C's optimizer during phase 1 (with the code's
5 epochs the intended schedule gives the same lr). ``disentangle=False`` is the code's default;
the paper describes the method with it on.

The defense reads only the poisoned images and labels; ``y_true`` and ``is_poison`` are used for
logging and metrics only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from unpoison.data.loader import DeviceLoader
from unpoison.data.split import PoisonedSplit, Split
from unpoison.logging import NullLogger, log_poison_examples
from unpoison.metrics import evaluator
from unpoison.models import Backbone, create_model
from unpoison.train import (
    LossMeter,
    StageProgress,
    constant_lr,
    make_sgd,
    run_epochs,
    run_stage,
    set_lr,
    step_lr,
)

from cbd.config import CbdConfig
from cbd.discriminator import Discriminator, mi_estimate, spectral_rescale_
from cbd.weights import weighted_cross_entropy

STAGES = ("backdoored", "clean")


@dataclass
class CbdResult:
    """What a CBD run returns."""

    model: nn.Module  # f_C, the defended model
    backdoored_model: nn.Module  # f_B, frozen after phase 1
    # final test metrics of f_C (empty without a test set), of f_B ("backdoored_" prefix), and
    # the mean last-epoch weight of poisoned and clean examples (from the true flags: logging)
    metrics: dict[str, float]
    stage_seconds: dict[str, float] = field(default_factory=dict)


# --- phase 2, one epoch --------------------------------------------------------------------------


def train_discriminator_pass(
    discriminator: Discriminator,
    backdoored: Backbone,
    clean: Backbone,
    batches: DeviceLoader,
    pass_number: int,
    optimizer: torch.optim.Optimizer,
    config: CbdConfig,
    epoch: int,
) -> float:
    """One full pass updating only the discriminator; returns its mean loss (-MI estimate)."""
    discriminator.train()
    clean.train()  # code: f_C stays in train mode, so this pass moves its BatchNorm statistics
    meter = LossMeter(batches.device)
    for x, _, _ in batches.epoch(pass_number):
        with torch.no_grad():
            z_backdoored = backdoored.forward_features(x)
            z_clean = clean.forward_features(x)
        loss = -mi_estimate(discriminator, z_backdoored, z_clean, config.mi_scale)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        spectral_rescale_(discriminator, config.power_iterations)
        meter.add(loss)
    return meter.mean("cbd/discriminator", epoch)


def train_clean_pass(
    clean: Backbone,
    backdoored: Backbone,
    discriminator: Discriminator,
    batches: DeviceLoader,
    pass_number: int,
    optimizer: torch.optim.Optimizer,
    config: CbdConfig,
    epoch: int,
    weights_out: torch.Tensor,
) -> dict[str, float]:
    """One pass training f_C on the reweighted loss (+ the MI estimate when disentangling).

    Every example's weight is written to ``weights_out`` at its position (logging only).
    Returns the mean loss, and the mean MI term when disentangling.
    """
    clean.train()
    discriminator.train()  # code: the estimator is never put in eval mode (dropout stays on)
    loss_meter, mi_meter = LossMeter(batches.device), LossMeter(batches.device)
    for x, y, position in batches.epoch(pass_number):
        z_clean = clean.forward_features(x)
        with torch.no_grad():
            z_backdoored = backdoored.forward_features(x)
            loss_backdoored = F.cross_entropy(
                backdoored.forward_head(z_backdoored), y, reduction="none"
            )
        loss, weights = weighted_cross_entropy(
            clean.forward_head(z_clean), y, loss_backdoored, config.weight_eps
        )
        if config.disentangle:
            mi = mi_estimate(discriminator, z_backdoored, z_clean, config.mi_scale)
            loss = loss + mi
            mi_meter.add(mi)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_meter.add(loss)
        weights_out[position] = weights
    values = {"loss": loss_meter.mean("cbd/clean", epoch)}
    if config.disentangle:
        values["mi"] = mi_meter.mean("cbd/clean", epoch)
    return values


# --- the pipeline -------------------------------------------------------------------------------


def run(
    poisoned: PoisonedSplit,
    *,
    num_classes: int,
    config: CbdConfig | None = None,
    test: Split | None = None,
    backdoor_test: Split | None = None,
    target: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    logger: NullLogger | None = None,
    checkpoint_dir: str | Path | None = None,
    stop_after: str | None = None,
    progress: bool = True,
) -> CbdResult:
    """Train a model on ``poisoned`` with CBD and return it (f_C) with f_B and the metrics.

    With ``test``, ``backdoor_test`` and ``target`` every epoch of both models is evaluated
    (CA_all, CA_nontarget, ASR) and the final metrics are returned. With ``checkpoint_dir`` the
    run saves after every epoch and a second call with the same directory continues where it
    stopped. ``stop_after="backdoored"`` ends the run after phase 1.
    """
    stages = StageProgress(STAGES, stop_after, checkpoint_dir)
    config = config or CbdConfig()
    device = torch.device(device)
    logger = logger or NullLogger()

    torch.manual_seed(seed)
    backdoored = create_model(config.model, num_classes=num_classes).to(device)
    torch.manual_seed(seed + 1)  # ours: f_C starts from other weights than f_B (see docstring)
    clean = create_model(config.model, num_classes=num_classes).to(device)
    torch.manual_seed(seed + 2)
    discriminator = Discriminator(
        clean.feature_dim, config.discriminator_hidden, config.discriminator_dropout
    ).to(device)
    modules = {"backdoored": backdoored, "clean": clean, "discriminator": discriminator}
    optimizers = {
        "backdoored": make_sgd(backdoored.parameters(), config.backdoored_sgd),
        "clean": make_sgd(clean.parameters(), config.clean_sgd),
        "discriminator": torch.optim.Adam(discriminator.parameters(), lr=config.discriminator_lr),
    }
    # The last clean epoch's weight of every example (logging only); NaN until phase 2 runs.
    weights = torch.full((len(poisoned),), float("nan"), device=device)

    if (saved := stages.resume(device)) is not None:
        saved.restore(modules, optimizers)
        if stages.reached("clean"):
            weights = saved.tensor("weights").to(device)

    def checkpoint(stage: str) -> Callable[[int], None]:
        return stages.saver(stage, modules, optimizers, lambda: {"weights": weights})

    def metrics(model: nn.Module) -> Callable[[], dict[str, float]]:
        return evaluator(model, test, backdoor_test, target)

    logger.text("cbd/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(logger, poisoned, "cbd/examples")

    # One loader for both phases; ``index`` is left at 0..N-1 so that batches carry positions in
    # this split (for the weight log). Every pass draws its own shuffle and augmentation, as the
    # code's single DataLoader does: phase 1 uses passes 0..B-1, the main clean passes B..B+C-1
    # and the discriminator passes B+C..B+2C-1 (B, C = the two phases' epochs).
    batches = DeviceLoader(
        poisoned.x,
        poisoned.y,
        config.batch_size,
        shuffle=True,
        augment=config.augment,
        seed=seed,
        device=device,
    )

    # 1. f_B: plain cross-entropy on the poisoned data.
    if stages.pending("backdoored"):
        stages.start("backdoored")
        lr = config.backdoored_sgd.lr
        run_stage(
            stage="cbd/backdoored",
            model=backdoored,
            loader=batches,
            optimizer=optimizers["backdoored"],
            lr_at=constant_lr(lr)
            if config.backdoored_schedule == "code"
            else step_lr(lr, config.clean_milestones),
            epochs=config.backdoored_epochs,
            start_epoch=stages.start_epoch("backdoored"),
            evaluate=metrics(backdoored),
            on_epoch_end=checkpoint("backdoored"),
            logger=logger,
            progress=progress,
        )

    # Frozen from here on: no gradients, eval-mode BatchNorm (code: model_backdoor.eval()).
    backdoored.zero_grad(set_to_none=True)
    backdoored.requires_grad_(False)
    backdoored.eval()

    # 2. f_C: reweighted cross-entropy (+ the adversarial MI term).
    if stages.pending("clean"):
        stages.start("clean")
        clean_lr = step_lr(config.clean_sgd.lr, config.clean_milestones)
        first_pass = config.backdoored_epochs

        def clean_epoch(epoch: int) -> dict[str, float]:
            values: dict[str, float] = {}
            if config.disentangle:
                values["discriminator_lr"] = config.discriminator_lr_at(epoch)
                set_lr(optimizers["discriminator"], values["discriminator_lr"])
                values["discriminator_loss"] = train_discriminator_pass(
                    discriminator,
                    backdoored,
                    clean,
                    batches,
                    first_pass + config.clean_epochs + epoch,
                    optimizers["discriminator"],
                    config,
                    epoch,
                )
            values["lr"] = clean_lr(epoch)
            set_lr(optimizers["clean"], values["lr"])
            values.update(
                train_clean_pass(
                    clean,
                    backdoored,
                    discriminator,
                    batches,
                    first_pass + epoch,
                    optimizers["clean"],
                    config,
                    epoch,
                    weights,
                )
            )
            return values | _log_weights(logger, weights, poisoned, epoch + 1)

        run_epochs(
            stage="cbd/clean",
            train_one_epoch=clean_epoch,
            epochs=config.clean_epochs,
            start_epoch=stages.start_epoch("clean"),
            evaluate=metrics(clean),
            on_epoch_end=checkpoint("clean"),
            logger=logger,
            progress=progress,
        )

    final = {f"backdoored_{k}": v for k, v in metrics(backdoored)().items()}
    if stages.pending("clean"):
        final.update(metrics(clean)())
        final.update(_weight_means(weights, poisoned))
    return CbdResult(
        model=clean, backdoored_model=backdoored, metrics=final, stage_seconds=stages.seconds
    )


def _weight_means(weights: torch.Tensor, poisoned: PoisonedSplit) -> dict[str, float]:
    """Mean weight of the truly poisoned and of the clean examples (uses the true flags)."""
    flags = poisoned.is_poison.to(weights.device)
    return {
        "weight_mean_poisoned": weights[flags].mean().item(),
        "weight_mean_clean": weights[~flags].mean().item(),
    }


def _log_weights(
    logger: NullLogger, weights: torch.Tensor, poisoned: PoisonedSplit, step: int
) -> dict[str, float]:
    """Histograms of the epoch's weights split by the true poison flag; returns their means."""
    flags = poisoned.is_poison.to(weights.device)
    logger.histogram("cbd/clean/weights/poisoned", weights[flags], step)
    logger.histogram("cbd/clean/weights/clean", weights[~flags], step)
    return _weight_means(weights, poisoned)
