"""The attacker's surrogate classifier: trained on clean data, normally or adversarially.

The label-consistent attacks perturb target-class images against such a model: D-ST against a
standard ResNet-18, T&R's (MadryLab's) and ABL's against a PGD-adversarially-trained one
(docs/attacks.md §5.5, §7). Adversarial training here is Madry et al.'s: every batch is replaced
by its PGD images (crafted in train mode, as fast_adversarial's ``train_pgd.py`` does) before the
SGD step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.attacks.learned.pgd import PGDConfig, pgd_linf
from unpoison.data.augment import NO_AUGMENT, Augment
from unpoison.data.loader import DeviceLoader
from unpoison.data.split import Split
from unpoison.models import Normalized, create_model
from unpoison.models.normalized import Normalization
from unpoison.train.loop import LossMeter, run_epochs
from unpoison.train.optim import SGDConfig, check_milestones, make_sgd, set_lr, step_lr


@dataclass(frozen=True)
class SurrogateTraining:
    """The surrogate and its training. ``adversarial`` = None trains on clean images; a PGD
    config trains on that attack's images. ``normalization`` puts (mean, std) inside the model."""

    model: str
    epochs: int
    batch_size: int = 128
    sgd: SGDConfig = field(default_factory=SGDConfig)
    milestones: tuple[int, ...] = ()
    augment: Augment = NO_AUGMENT
    adversarial: PGDConfig | None = None
    normalization: Normalization | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        check_milestones("milestones", self.milestones)


# A clean ResNet-18 trained on CIFAR-10 with D-ST's benign-model recipe (200 epochs, SGD lr 0.01,
# x0.1 at 100 and 150, crop + flip): our choice for the attacks whose papers name no surrogate
# (ABL's LBA and FC).
CLEAN_RESNET18 = SurrogateTraining(
    model="resnet18-cifar",
    epochs=200,
    batch_size=128,
    sgd=SGDConfig(lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=False),
    milestones=(100, 150),
    augment=Augment(crop_padding=4, flip=True),
)

# Every mini surrogate on digits: WRN-16-1 for 6 epochs at batch 64 (x0.1 at 4) without
# augmentation. (The mini No-defense training had this schedule until it needed 8 epochs to plant
# the backdoor reliably; a surrogate trains on clean digits, which 6 epochs learn.)
MINI_SURROGATE = SurrogateTraining(
    model="wrn-16-1",
    epochs=6,
    batch_size=64,
    sgd=SGDConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=False),
    milestones=(4,),
    augment=NO_AUGMENT,
)


def build_surrogate(config: SurrogateTraining, num_classes: int) -> nn.Module:
    """The untrained surrogate ``config.model``, normalised inside when
    ``config.normalization`` says so."""
    model = create_model(config.model, num_classes=num_classes)
    if config.normalization is not None:
        model = Normalized(model, *config.normalization)
    return model


def train_surrogate(
    model: nn.Module, train: Split, config: SurrogateTraining, seed: int = 0
) -> None:
    """Train ``model`` in place on ``train`` (on the model's device); it ends in eval mode."""
    device = next(model.parameters()).device
    torch.manual_seed(seed)
    optimizer = make_sgd(model.parameters(), config.sgd)
    lr_at = step_lr(config.sgd.lr, config.milestones)
    loader = DeviceLoader.from_split(
        train, config.batch_size, shuffle=True, augment=config.augment, seed=seed, device=device
    )
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    stage = "surrogate" if config.adversarial is None else "adversarial surrogate"

    def one_epoch(epoch: int) -> dict[str, float]:
        lr = lr_at(epoch)
        set_lr(optimizer, lr)
        model.train()
        meter = LossMeter(device)
        for x, y, _ in loader.epoch(epoch):
            if config.adversarial is not None:
                x = pgd_linf(model, x, y, config.adversarial, generator)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            meter.add(loss)
        return {"loss": meter.mean(stage, epoch), "lr": lr}

    run_epochs(stage=stage, train_one_epoch=one_epoch, epochs=config.epochs)
    model.eval()
