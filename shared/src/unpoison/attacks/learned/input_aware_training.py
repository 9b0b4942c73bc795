"""Training the input-aware attack's mask generator M and trigger generator G.

The official recipe (VinAIResearch/input-aware-backdoor-attack-release ``train.py`` and
``config.py``; docs/attacks.md §5.8), on clean data read by two independently shuffled loaders:

1. M alone: ``lambda_norm * mean(relu(M_thr(x1) - density)) + lambda_div * div(x1, x2, M_thr)``,
   with Adam. Then M is frozen in eval mode.
2. G jointly with a classifier C. In each batch the first ``fraction`` of the images get their own
   trigger and the attack's label, the next ``fraction`` get the trigger made for a different
   image (from the second loader) and keep their label, the rest stay clean. The loss is C's
   cross-entropy over the whole batch plus ``lambda_div * div(x1, x2, G)``; one backward pass
   steps C (SGD) and G (Adam).

``div`` is the diversity term: the mean over pairs of the RMS distance between the two images
divided by the RMS distance between their two outputs (+ 1e-7), which keeps different images from
getting the same trigger. C is only a means to train G; it is discarded.

Our departures, all in the module's interest of batched tensor ops: G and M see [0, 1] images (the
official code feeds them normalised CIFAR images, or [0, 1] ones on GTSRB), augmentation is the
core's crop + flip without the official RandomRotation(10), and M's forward pass runs once per
batch where the code runs it twice on the first images (a repeated BatchNorm update).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.attacks.learned.input_aware_net import (
    InputAwareGenerator,
    apply_input_aware_trigger,
    threshold_mask,
)
from unpoison.data.augment import NO_AUGMENT, Augment
from unpoison.data.loader import DeviceLoader
from unpoison.data.split import Split
from unpoison.models import create_model
from unpoison.train.loop import LossMeter, run_epochs
from unpoison.train.optim import SGDConfig, check_milestones, make_sgd, set_lr, step_lr

_DIVERSITY_EPSILON = 1e-7  # code: opt.EPSILON
_ADAM_BETAS = (0.5, 0.9)  # code: both generators' Adam


@dataclass(frozen=True)
class InputAwareTraining:
    """The settings of both training stages; the defaults are the official CIFAR-10 ones."""

    width: int = 32  # code: channel_init 32 for CIFAR-10 / GTSRB (16 for MNIST)
    steps: int = 3  # code: 3 down/up steps for CIFAR-10 / GTSRB (2 for MNIST)
    batch_size: int = 128  # code: --bs
    augment: Augment = field(
        default_factory=lambda: Augment(crop_padding=5, flip=True, cutout_length=0)
    )  # code: RandomCrop(pad 5) + flip (+ RandomRotation(10), which we leave out)
    lambda_div: float = 1.0  # code: --lambda_div
    # Stage 1: M alone.
    mask_epochs: int = 25  # code: the hard-coded range(25)
    mask_lr: float = 1e-2  # code: --lr_M
    mask_milestones: tuple[int, ...] = (10, 20)  # code: --schedulerM_milestones, x0.1
    mask_density: float = 0.032  # code: --mask_density
    lambda_norm: float = 100.0  # code: --lambda_norm
    # Stage 2: G with the classifier C.
    joint_epochs: int = 575  # code: --n_iters 600 counts the 25 mask epochs
    classifier: str = "preact-resnet18"  # code: PreActResNet18 for CIFAR-10 / GTSRB
    classifier_sgd: SGDConfig = field(
        default_factory=lambda: SGDConfig(lr=1e-2, momentum=0.9, weight_decay=5e-4, nesterov=False)
    )  # code: --lr_C, SGD(momentum 0.9, weight_decay 5e-4)
    classifier_milestones: tuple[int, ...] = (100, 200, 300, 400)  # code, x0.1
    generator_lr: float = 1e-2  # code: --lr_G
    generator_milestones: tuple[int, ...] = (200, 300, 400, 500)  # code, x0.1
    fraction: float = 0.1  # code: --p_attack = --p_cross = 0.1 (the diversity term pairs them)

    def __post_init__(self) -> None:
        for name in ("width", "batch_size", "mask_epochs", "joint_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(self.steps, int) or self.steps < 2:
            raise ValueError(f"steps must be an int >= 2, got {self.steps!r}")
        if not 0 < self.fraction <= 0.5:
            raise ValueError(f"fraction must be in (0, 0.5], got {self.fraction}")
        for name in ("mask_lr", "generator_lr", "lambda_div", "lambda_norm", "mask_density"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("mask_milestones", "classifier_milestones", "generator_milestones"):
            check_milestones(name, getattr(self, name))


# mini: digits (1,437 images) on 2 CPU cores in about a minute. MNIST's generator size, no
# augmentation (as every mini training), WRN-16-1 as C, and both stages shortened with their
# schedules scaled; measured in tests/attacks (ASR of a victim trained on the poisoned digits).
MINI_INPUT_AWARE = InputAwareTraining(
    width=16,
    steps=2,
    batch_size=64,
    augment=NO_AUGMENT,
    mask_epochs=5,
    mask_milestones=(2, 4),
    joint_epochs=10,
    classifier="wrn-16-1",
    classifier_milestones=(7,),
    generator_milestones=(7,),
)

TRAININGS = MappingProxyType({"paper": InputAwareTraining(), "mini": MINI_INPUT_AWARE})


def diversity(
    images1: torch.Tensor, images2: torch.Tensor, out1: torch.Tensor, out2: torch.Tensor
) -> torch.Tensor:
    """Mean over pairs of RMS(images1 - images2) / (RMS(out1 - out2) + 1e-7)."""
    image_distance = (images1 - images2).pow(2).mean(dim=(1, 2, 3)).sqrt()
    output_distance = (out1 - out2).pow(2).mean(dim=(1, 2, 3)).sqrt()
    return (image_distance / (output_distance + _DIVERSITY_EPSILON)).mean()


def train_input_aware(
    generator: InputAwareGenerator,
    mask: InputAwareGenerator,
    train: Split,
    *,
    attack_labels: Callable[[torch.Tensor], torch.Tensor],
    num_classes: int,
    config: InputAwareTraining,
    seed: int = 0,
) -> None:
    """Train ``mask`` (stage 1) then ``generator`` (stage 2) in place on the clean ``train``.

    ``attack_labels(y)`` gives the labels of triggered images whose true labels are ``y``.
    """
    device = next(generator.parameters()).device
    torch.manual_seed(seed)

    def loaders() -> tuple[DeviceLoader, DeviceLoader]:
        # Two independently shuffled passes over the same images, as the code's two loaders.
        return tuple(
            DeviceLoader.from_split(
                train,
                config.batch_size,
                shuffle=True,
                augment=config.augment,
                seed=s,
                device=device,
            )
            for s in (2 * seed, 2 * seed + 1)
        )

    first, second = loaders()
    _train_mask(mask, first, second, config)
    mask.eval().requires_grad_(False)
    classifier = create_model(config.classifier, num_classes=num_classes).to(device)
    _train_generator(generator, mask, classifier, first, second, attack_labels, config)


def _train_mask(
    mask: InputAwareGenerator,
    first: DeviceLoader,
    second: DeviceLoader,
    config: InputAwareTraining,
) -> None:
    optimizer = torch.optim.Adam(mask.parameters(), lr=config.mask_lr, betas=_ADAM_BETAS)
    lr_at = step_lr(config.mask_lr, config.mask_milestones)

    def one_epoch(epoch: int) -> dict[str, float]:
        set_lr(optimizer, lr_at(epoch))
        mask.train()
        norm_meter, div_meter = LossMeter(first.device), LossMeter(first.device)
        for (x1, _, _), (x2, _, _) in zip(first.epoch(epoch), second.epoch(epoch), strict=True):
            m1, m2 = threshold_mask(mask(x1)), threshold_mask(mask(x2))
            norm = F.relu(m1 - config.mask_density).mean()
            div = diversity(x1, x2, m1, m2)
            loss = config.lambda_norm * norm + config.lambda_div * div
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            norm_meter.add(norm)
            div_meter.add(div)
        return {
            "norm": norm_meter.mean("input-aware mask", epoch),
            "diversity": div_meter.mean("input-aware mask", epoch),
        }

    run_epochs(stage="input-aware mask", train_one_epoch=one_epoch, epochs=config.mask_epochs)


def _train_generator(
    generator: InputAwareGenerator,
    mask: InputAwareGenerator,
    classifier: nn.Module,
    first: DeviceLoader,
    second: DeviceLoader,
    attack_labels: Callable[[torch.Tensor], torch.Tensor],
    config: InputAwareTraining,
) -> None:
    classifier_optimizer = make_sgd(classifier.parameters(), config.classifier_sgd)
    generator_optimizer = torch.optim.Adam(
        generator.parameters(), lr=config.generator_lr, betas=_ADAM_BETAS
    )
    classifier_lr = step_lr(config.classifier_sgd.lr, config.classifier_milestones)
    generator_lr = step_lr(config.generator_lr, config.generator_milestones)

    def one_epoch(epoch: int) -> dict[str, float]:
        set_lr(classifier_optimizer, classifier_lr(epoch))
        set_lr(generator_optimizer, generator_lr(epoch))
        classifier.train()
        generator.train()
        ce_meter, div_meter = LossMeter(first.device), LossMeter(first.device)
        triggered_correct = torch.zeros((), device=first.device)
        triggered_total = 0
        for (x1, y1, _), (x2, _, _) in zip(first.epoch(epoch), second.epoch(epoch), strict=True):
            n = int(config.fraction * len(x1))
            patterns1 = generator(x1[:n])
            triggered = apply_input_aware_trigger(x1[:n], patterns1, threshold_mask(mask(x1[:n])))
            patterns2 = generator(x2[n : 2 * n])
            crossed = apply_input_aware_trigger(
                x1[n : 2 * n], patterns2, threshold_mask(mask(x2[n : 2 * n]))
            )
            inputs = torch.cat((triggered, crossed, x1[2 * n :]))
            labels = torch.cat((attack_labels(y1[:n]), y1[n:]))
            logits = classifier(inputs.contiguous(memory_format=torch.channels_last))
            ce = F.cross_entropy(logits, labels)
            loss = ce
            if n > 0:
                div = diversity(x1[:n], x2[n : 2 * n], patterns1, patterns2)
                loss = ce + config.lambda_div * div
                div_meter.add(div)
            classifier_optimizer.zero_grad(set_to_none=True)
            generator_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            classifier_optimizer.step()
            generator_optimizer.step()
            ce_meter.add(ce)
            triggered_correct += (logits[:n].argmax(1) == labels[:n]).sum()
            triggered_total += n
        return {
            "cross_entropy": ce_meter.mean("input-aware generator", epoch),
            "diversity": div_meter.mean("input-aware generator", epoch),
            "train_asr": 100.0 * triggered_correct.item() / max(triggered_total, 1),
        }

    run_epochs(stage="input-aware generator", train_one_epoch=one_epoch, epochs=config.joint_epochs)
