"""Training utilities: seeding, optimizers and schedules, the epoch loop, checkpoints, and the
settings of plain training, every table's "No defense" column."""

from unpoison.train.batchnorm import recalibrated_copy
from unpoison.train.checkpoint import Checkpoint, Checkpointer
from unpoison.train.loop import (
    LossMeter,
    NonFiniteLossError,
    cross_entropy,
    run_epochs,
    run_stage,
    train_epoch,
)
from unpoison.train.no_defense import (
    MINI_AUGMENT,
    MINI_NO_DEFENSE,
    NoDefenseConfig,
)
from unpoison.train.optim import (
    AdamConfig,
    SGDConfig,
    check_milestones,
    constant_lr,
    cosine_lr,
    make_adam,
    make_sgd,
    set_lr,
    step_lr,
)
from unpoison.train.seeding import default_device, resolve_device, seed_everything
from unpoison.train.stages import Stage, Stages

__all__ = [
    "MINI_AUGMENT",
    "MINI_NO_DEFENSE",
    "AdamConfig",
    "Checkpoint",
    "Checkpointer",
    "LossMeter",
    "NoDefenseConfig",
    "NonFiniteLossError",
    "SGDConfig",
    "Stage",
    "Stages",
    "check_milestones",
    "constant_lr",
    "cosine_lr",
    "cross_entropy",
    "default_device",
    "make_adam",
    "make_sgd",
    "recalibrated_copy",
    "resolve_device",
    "run_epochs",
    "run_stage",
    "seed_everything",
    "set_lr",
    "step_lr",
    "train_epoch",
]
