"""Causality-inspired Backdoor Defense (Zhang et al., "Backdoor Defense via Deconfounded
Representation Learning", CVPR 2023; official code: github.com/zaixizhang/CBD).

The pipeline, as the official code runs it (docs/methods/cbd.md §3-4):

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

from dataclasses import asdict

import torch
import torch.nn.functional as F
from unpoison.data.loader import DeviceLoader
from unpoison.data.split import PoisonedSplit
from unpoison.defenses import MODEL, Defense, DefenseResult, Evaluation, RunOptions, TrainingData
from unpoison.defenses.options import ConfigOption, shortcuts
from unpoison.logging import NullLogger, log_poison_examples
from unpoison.models import Backbone, create_model
from unpoison.train import LossMeter, constant_lr, make_sgd, set_lr, step_lr

from cbd.config import MINI_VARIANT, PAPER_VARIANT, CbdConfig
from cbd.discriminator import Discriminator, mi_estimate, spectral_rescale_
from cbd.weights import weighted_cross_entropy

STAGES = ("backdoored", "clean")


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


def train_clean_epoch(
    epoch: int,
    clean: Backbone,
    backdoored: Backbone,
    discriminator: Discriminator,
    batches: DeviceLoader,
    optimizers: dict[str, torch.optim.Optimizer],
    config: CbdConfig,
    weights: torch.Tensor,
) -> dict[str, float]:
    """Phase-2 epoch ``epoch``: with ``disentangle``, first the discriminator's own pass, then
    f_C's. Every pass draws its own shuffle and augmentation from the one loader, as the code's
    single DataLoader does: phase 1 used passes 0..B-1, the main clean passes are B..B+C-1 and
    the discriminator passes B+C..B+2C-1 (B, C = the two phases' epochs)."""
    first_pass = config.backdoored_epochs
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
    values["lr"] = step_lr(config.clean_sgd.lr, config.clean_milestones)(epoch)
    set_lr(optimizers["clean"], values["lr"])
    return values | train_clean_pass(
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


# --- the pipeline -------------------------------------------------------------------------------


def run(
    data: TrainingData, config: CbdConfig, evaluation: Evaluation, options: RunOptions
) -> DefenseResult:
    """Train f_B, then the defended f_C, on the poisoned split with CBD. The result holds f_C,
    with f_B (``models["backdoored"]``) and its metrics, and the mean last-epoch weight of the
    poisoned and the clean examples (from the true flags: metrics only)."""
    poisoned, seed, device = data.poisoned, options.seed, options.torch_device
    stages = options.stages(STAGES, prefix="cbd")
    torch.manual_seed(seed)
    backdoored = create_model(config.model, num_classes=data.num_classes).to(device)
    torch.manual_seed(seed + 1)  # ours: f_C starts from other weights than f_B (see docstring)
    clean = create_model(config.model, num_classes=data.num_classes).to(device)
    torch.manual_seed(seed + 2)
    discriminator = Discriminator(
        clean.feature_dim, config.discriminator_hidden, config.discriminator_dropout
    ).to(device)
    optimizers = {
        "backdoored": make_sgd(backdoored.parameters(), config.backdoored_sgd),
        "clean": make_sgd(clean.parameters(), config.clean_sgd),
        "discriminator": torch.optim.Adam(discriminator.parameters(), lr=config.discriminator_lr),
    }
    # The last clean epoch's weight of every example (logging only); NaN until phase 2 runs.
    weights = torch.full((len(poisoned),), float("nan"), device=device)
    modules = {"backdoored": backdoored, "clean": clean, "discriminator": discriminator}
    saved = stages.track(modules, optimizers, lambda: {"weights": weights}, device)
    if saved is not None and stages.reached("clean"):
        weights = saved.tensor("weights").to(device)
    options.logger.text("cbd/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(options.logger, poisoned, "cbd/examples")

    # One loader for both phases (its passes: train_clean_epoch); ``index`` is left at 0..N-1 so
    # that batches carry positions in this split (for the weight log).
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
    if stage := stages.start("backdoored", config.backdoored_epochs):
        lr = config.backdoored_sgd.lr
        code_schedule = config.backdoored_schedule == "code"
        stage.train(
            model=backdoored,
            loader=batches,
            optimizer=optimizers["backdoored"],
            lr_at=constant_lr(lr) if code_schedule else step_lr(lr, config.clean_milestones),
            evaluate=evaluation.of(backdoored),
        )

    # Frozen from here on: no gradients, eval-mode BatchNorm (code: model_backdoor.eval()).
    backdoored.zero_grad(set_to_none=True)
    backdoored.requires_grad_(False)
    backdoored.eval()

    # 2. f_C: reweighted cross-entropy (+ the adversarial MI term).
    if stage := stages.start("clean", config.clean_epochs):

        def clean_epoch(epoch: int) -> dict[str, float]:
            values = train_clean_epoch(
                epoch, clean, backdoored, discriminator, batches, optimizers, config, weights
            )
            return values | _log_weights(options.logger, weights, poisoned, epoch + 1)

        stage.loop(clean_epoch, evaluate=evaluation.of(clean))

    groups = {"backdoored": evaluation.of(backdoored)()}
    if options.stop_after != "backdoored":
        groups[MODEL] = evaluation.of(clean)()
        groups["weights"] = _weight_means(weights, poisoned)
    return DefenseResult(clean, groups, stages.seconds, models={"backdoored": backdoored})


def _weight_means(weights: torch.Tensor, poisoned: PoisonedSplit) -> dict[str, float]:
    """Mean weight of the truly poisoned and of the clean examples (uses the true flags)."""
    flags = poisoned.is_poison.to(weights.device)
    return {
        "mean_poisoned": weights[flags].mean().item(),
        "mean_clean": weights[~flags].mean().item(),
    }


def _log_weights(
    logger: NullLogger, weights: torch.Tensor, poisoned: PoisonedSplit, step: int
) -> dict[str, float]:
    """Histograms of the epoch's weights split by the true poison flag; returns their means."""
    flags = poisoned.is_poison.to(weights.device)
    logger.histogram("cbd/clean/weights/poisoned", weights[flags], step)
    logger.histogram("cbd/clean/weights/clean", weights[~flags], step)
    return _weight_means(weights, poisoned)


TITLE = "Causality-inspired Backdoor Defense (Zhang et al., CVPR 2023)"
SUMMARY = (
    "Trains a deliberately backdoored model f_B for a few epochs, then a clean model f_C whose "
    "per-example loss is weighted down where f_B fits best (optionally also minimising the "
    "mutual information between the two models' features)."
)
VARIANTS = {"code": CbdConfig(), "paper": PAPER_VARIANT, "mini": MINI_VARIANT}
OPTIONS = (
    *shortcuts("backdoored_epochs", "clean_epochs", "batch_size"),
    ConfigOption("disentangle", "disentangle", "add the mutual-information term", const=True),
    ConfigOption(
        "backdoored-schedule",
        "backdoored_schedule",
        "f_B's lr: code = constant (the official code's bug, default); intended = the clean "
        "phase's step schedule",
        choices=("code", "intended"),
    ),
)
DEFENSE = Defense("cbd", TITLE, SUMMARY, VARIANTS, STAGES, run, options=OPTIONS)
