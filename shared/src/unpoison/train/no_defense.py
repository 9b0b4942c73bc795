"""The "No defense" column of every table: plain training on the poisoned split."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from unpoison.data.augment import ABL_AUGMENT, Augment
from unpoison.data.loader import DeviceLoader
from unpoison.data.split import PoisonedSplit, Split
from unpoison.logging import NullLogger
from unpoison.metrics import evaluate
from unpoison.models import create_model
from unpoison.train.checkpoint import Checkpointer
from unpoison.train.loop import run_stage
from unpoison.train.optim import SGDConfig, check_milestones, make_sgd, step_lr

STAGE = "no_defense"


@dataclass(frozen=True)
class NoDefenseConfig:
    """Standard supervised training of the undefended model."""

    model: str = "wrn-16-1"  # ABL/CBD backbone (spec/methods.md 0.5a)
    epochs: int = 100  # ABL paper: T = 100 total epochs for every model
    batch_size: int = 128  # ABL official code
    sgd: SGDConfig = field(default_factory=SGDConfig)  # ABL official code, every stage
    milestones: tuple[int, ...] = (50, 75)  # our choice: the papers do not state the baseline's
    augment: Augment = ABL_AUGMENT  # ABL's training augmentation: crop 4, flip, Cutout(1, 3)

    def __post_init__(self) -> None:
        check_milestones("milestones", self.milestones)


# The mini presets' setting on digits (1,437 training images, 23 steps per epoch at batch 64):
# digits are learned in a few epochs. Crop and flip are off: measured on digits, they keep the
# 3x3 corner trigger from being learned in so few epochs (No-defense ASR 52% with crop 4, 87%
# with crop 2, 99% without), and digits are not mirror-symmetric. Cutout(1, 3) stays.
MINI_AUGMENT = Augment(crop_padding=0, flip=False, cutout_length=3)
# 8 epochs, the lr dropped after 6: at 6 epochs (drop after 4) the trigger was learned or not by
# chance. badnets-grid under T&R's rules, seeds 0/1/2 on one CPU: ASR 43.9 / 98.4 / 100 at 6
# epochs, 100 / 100 / 100 at 8 (CA_all 99.2 / 99.2 / 98.9).
MINI_NO_DEFENSE = NoDefenseConfig(epochs=8, batch_size=64, milestones=(6,), augment=MINI_AUGMENT)


def train_no_defense(
    poisoned: PoisonedSplit,
    test: Split,
    backdoor_test: Split,
    *,
    target: int,
    num_classes: int,
    config: NoDefenseConfig | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    logger: NullLogger | None = None,
    checkpointer: Checkpointer | None = None,
) -> tuple[nn.Module, dict[str, float]]:
    """Train ``config.model`` on the poisoned split; return it with its final test metrics.

    With a ``checkpointer`` the run saves after every epoch and continues from its last save.
    """
    config = config or NoDefenseConfig()
    torch.manual_seed(seed)
    model = create_model(config.model, num_classes=num_classes).to(device)
    optimizer = make_sgd(model.parameters(), config.sgd)
    loader = DeviceLoader.from_split(
        poisoned, config.batch_size, shuffle=True, augment=config.augment, seed=seed, device=device
    )
    start_epoch = 0
    if checkpointer is not None and (saved := checkpointer.load(device)) is not None:
        saved.restore({"model": model}, {"optimizer": optimizer})
        start_epoch = saved.epoch

    def save(epochs_done: int) -> None:
        if checkpointer is not None:
            checkpointer.save(
                stage=STAGE,
                epoch=epochs_done,
                modules={"model": model},
                optimizers={"optimizer": optimizer},
            )

    run_stage(
        stage=STAGE,
        model=model,
        loader=loader,
        optimizer=optimizer,
        lr_at=step_lr(config.sgd.lr, config.milestones),
        epochs=config.epochs,
        start_epoch=start_epoch,
        evaluate=lambda: evaluate(model, test, backdoor_test, target),
        on_epoch_end=save,
        logger=logger,
    )
    return model, evaluate(model, test, backdoor_test, target)
