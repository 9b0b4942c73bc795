"""``none``: plain training on the poisoned split, the "No defense" column of every table."""

from __future__ import annotations

import torch

from unpoison.data.loader import DeviceLoader
from unpoison.defenses.contract import (
    MODEL,
    Defense,
    DefenseResult,
    Evaluation,
    RunOptions,
    TrainingData,
)
from unpoison.models import create_model
from unpoison.train.no_defense import MINI_NO_DEFENSE, NoDefenseConfig
from unpoison.train.optim import make_sgd, step_lr

STAGES = ("no_defense",)


def run(
    data: TrainingData, config: NoDefenseConfig, evaluation: Evaluation, options: RunOptions
) -> DefenseResult:
    """Train ``config.model`` on the poisoned split with cross-entropy."""
    device = options.torch_device
    stages = options.stages(STAGES, prefix="")
    torch.manual_seed(options.seed)
    model = create_model(config.model, num_classes=data.num_classes).to(device)
    optimizer = make_sgd(model.parameters(), config.sgd)
    loader = DeviceLoader.from_split(
        data.poisoned,
        config.batch_size,
        shuffle=True,
        augment=config.augment,
        seed=options.seed,
        device=device,
    )
    stages.track({"model": model}, {"optimizer": optimizer}, device=device)
    if stage := stages.start("no_defense", config.epochs):
        stage.train(
            model=model,
            loader=loader,
            optimizer=optimizer,
            lr_at=step_lr(config.sgd.lr, config.milestones),
            evaluate=evaluation.of(model),
        )
    return DefenseResult(model, {MODEL: evaluation.of(model)()}, stages.seconds)


SUMMARY = "Plain supervised training on the poisoned set: the undefended baseline."
VARIANTS = {"code": NoDefenseConfig(), "mini": MINI_NO_DEFENSE}
DEFENSE = Defense("none", "No defense", SUMMARY, VARIANTS, STAGES, run)
