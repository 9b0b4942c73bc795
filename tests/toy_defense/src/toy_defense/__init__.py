"""A toy defense, the example of docs/adding-a-defense.md: train on the poisoned set, then
fine-tune on it without the examples it fits best (the lowest losses, where backdoored examples
tend to be), a crude cousin of ABL's isolation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from unpoison.data.loader import DeviceLoader
from unpoison.defenses import (
    MODEL,
    Defense,
    DefenseResult,
    Evaluation,
    RunOptions,
    TrainingData,
)
from unpoison.models import create_model
from unpoison.train import constant_lr

STAGES = ("warmup", "trim", "finetune")


@dataclass(frozen=True)
class ToyConfig:
    """Every setting of the toy defense."""

    model: str = "wrn-16-1"
    warmup_epochs: int = 1
    finetune_epochs: int = 1
    trim: float = 0.1  # the fraction of lowest-loss examples left out of the fine-tuning
    lr: float = 0.05
    batch_size: int = 128

    def __post_init__(self) -> None:
        if not 0 <= self.trim < 1:
            raise ValueError(f"trim must be in [0, 1), got {self.trim}")


def run(
    data: TrainingData, config: ToyConfig, evaluation: Evaluation, options: RunOptions
) -> DefenseResult:
    """Warm up on every example, drop the lowest-loss ``trim`` fraction, fine-tune on the rest."""
    device = options.torch_device
    stages = options.stages(STAGES, prefix="toy")
    torch.manual_seed(options.seed)
    model = create_model(config.model, num_classes=data.num_classes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
    kept = torch.ones(len(data.poisoned), dtype=torch.bool)
    saved = stages.track({"model": model}, {"optimizer": optimizer}, lambda: {"kept": kept}, device)
    if saved is not None:
        kept = saved.tensor("kept").cpu()

    def train(stage, split) -> None:
        loader = DeviceLoader.from_split(
            split, config.batch_size, shuffle=True, seed=options.seed, device=device
        )
        stage.train(
            model=model,
            loader=loader,
            optimizer=optimizer,
            lr_at=constant_lr(config.lr),
            evaluate=evaluation.of(model),
        )

    if stage := stages.start("warmup", config.warmup_epochs):
        train(stage, data.poisoned)
    if stage := stages.start("trim"):
        model.eval()
        with torch.no_grad():
            x = data.poisoned.x.float().to(device) / 255
            losses = F.cross_entropy(model(x), data.poisoned.y.to(device), reduction="none")
        kept[torch.argsort(losses.cpu())[: int(config.trim * len(losses))]] = False
        stage.done()
    if stage := stages.start("finetune", config.finetune_epochs):
        train(stage, data.poisoned.subset(kept.to(data.poisoned.y.device)))
    return DefenseResult(model, {MODEL: evaluation.of(model)()}, stages.seconds)


DEFENSE = Defense(
    name="toy",
    title="Toy defense (docs/adding-a-defense.md)",
    summary="Warms up on the poisoned set, then fine-tunes without the examples it fits best.",
    variants={"code": ToyConfig()},
    stages=STAGES,
    run=run,
)
