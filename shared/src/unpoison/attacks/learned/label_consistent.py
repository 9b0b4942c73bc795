"""The label-consistent attacks (Turner et al. 2019): D-ST's "CL", T&R's "LCBA" and ABL's "CL".

Clean-label: the poisoned images are target-class images that keep their label. Each is first
perturbed by PGD against the attacker's surrogate classifier, so that its content is hard to
learn, then stamped with a four-corner grid, which the victim learns instead (docs/attacks.md
§5.5). Test images get the stamp only.

``prepare`` trains the surrogate (``unpoison.attacks.learned.surrogate``);
``apply(train=True)`` perturbs the images as images of the prepared target class, which is what
every clean-label selection gives it. The PGD result is cast as the official codes cast it,
``(255 x).astype(uint8)``: a truncation, and where the PGD images are not clamped (D-ST), a
wrap-around of values outside [0, 255] (docs/attacks.md §1.2).

Each attack has a ``"paper"`` recipe and a ``"mini"`` one for digits on a CPU (a smaller
surrogate trained for a few epochs; the PGD crafting is the paper's). On digits none of the three
plants a backdoor in the mini No-defense training (ASR 0-7), nor did any variant measured:
reproductions/dst_dbr/NOTES.md "cl-dst on digits", reproductions/trap_replace/NOTES.md "lcba on
digits", reproductions/abl/NOTES.md "cl-abl on digits".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import ClassVar

import torch
from torch import nn

from unpoison.attacks.base import LabelRule, register_attack
from unpoison.attacks.four_corner import stamp_four_corners_dst, stamp_four_corners_flush
from unpoison.attacks.learned.base import LearnedAttack
from unpoison.attacks.learned.pgd import PGDConfig, pgd_linf
from unpoison.attacks.learned.surrogate import (
    MINI_SURROGATE,
    SurrogateTraining,
    build_surrogate,
    train_surrogate,
)
from unpoison.data.augment import Augment
from unpoison.data.split import Split
from unpoison.models import Normalized
from unpoison.models.normalized import CIFAR10_NORMALIZATION
from unpoison.train.optim import SGDConfig

_BATCH = 256  # our choice: images per PGD pass, to bound memory
_START_SEED = 0  # our choice: the seed of PGD's random start when crafting poison
_CIFAR_AUGMENT = Augment(crop_padding=4, flip=True)


@dataclass(frozen=True)
class LabelConsistentRecipe:
    """The surrogate, the PGD that perturbs against it, and whether PGD bypasses the surrogate's
    input normalisation (D-ST feeds [0, 1] images to a model trained on normalised ones)."""

    surrogate: SurrogateTraining
    pgd: PGDConfig
    pgd_skips_normalization: bool = False


# PGD adversarial training as in fast_adversarial's train_pgd.py, which the PyTorch port ABL links
# (hkunzhe/label_consistent_attacks_pytorch) uses for its robust model: eps 8/255, 10 steps of
# 2/255, random start; ResNet-18, SGD lr 0.1 (momentum 0.9, weight decay 5e-4), x0.1 at 100 and
# 150 of 200 epochs, crop + flip (docs/attacks.md §7). Madry's LCBA model is "adversarially
# trained" without published code: we use the same recipe for it (our reading, docs/attacks.md
# §9).
_ADVERSARIAL_SURROGATE = SurrogateTraining(
    model="resnet18-cifar",
    epochs=200,
    batch_size=128,
    sgd=SGDConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=False),
    milestones=(100, 150),
    augment=_CIFAR_AUGMENT,
    adversarial=PGDConfig(eps=8 / 255, step=2 / 255, steps=10),
)

# mini surrogates: ``MINI_SURROGATE``; the adversarial one with 3 PGD steps of 3/255 (a 16-wide
# ResNet-18 took 7 minutes to train adversarially on 2 CPU cores).
_MINI_ADVERSARIAL_SURROGATE = replace(
    MINI_SURROGATE, adversarial=PGDConfig(eps=8 / 255, step=3 / 255, steps=3)
)


def _against_adversarial_surrogates(pgd: PGDConfig) -> Mapping[str, LabelConsistentRecipe]:
    """``pgd`` against the adversarially trained surrogate: the paper's, and the mini one."""
    return MappingProxyType(
        {
            "paper": LabelConsistentRecipe(surrogate=_ADVERSARIAL_SURROGATE, pgd=pgd),
            "mini": LabelConsistentRecipe(surrogate=_MINI_ADVERSARIAL_SURROGATE, pgd=pgd),
        }
    )


class LabelConsistent(LearnedAttack):
    """PGD against a surrogate, then a four-corner stamp; subclasses set the recipes and stamp."""

    default_label_rule = LabelRule.CLEAN_LABEL
    recipes: ClassVar[Mapping[str, LabelConsistentRecipe]]
    stamp: ClassVar[Callable[[torch.Tensor], torch.Tensor]]

    def __init__(self, training: str = "paper") -> None:
        super().__init__(training=training)

    def _build_networks(
        self, image_shape: tuple[int, int, int], num_classes: int
    ) -> dict[str, nn.Module]:
        return {"surrogate": build_surrogate(self.recipe.surrogate, num_classes)}

    def _train_networks(
        self,
        networks: dict[str, nn.Module],
        train: Split,
        *,
        target: int,
        num_classes: int,
        seed: int,
    ) -> None:
        train_surrogate(networks["surrogate"], train, self.recipe.surrogate, seed)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        if train:
            x = self.perturb(x)
        return type(self).stamp(x)

    def perturb(self, x: torch.Tensor) -> torch.Tensor:
        """The PGD images of the uint8 batch ``x`` (as target-class images), cast to uint8."""
        surrogate = self.networks["surrogate"]
        if self.recipe.pgd_skips_normalization and isinstance(surrogate, Normalized):
            surrogate = surrogate.backbone
        device = next(surrogate.parameters()).device
        # One seeded start for every image, so that an image's poison does not depend on the
        # rest of its batch (torchattacks draws a fresh one per image and call).
        generator = torch.Generator().manual_seed(_START_SEED)
        start = torch.rand((1, *x.shape[1:]), generator=generator).to(device)
        parts = []
        for chunk in x.split(_BATCH):
            images = chunk.to(device).float() / 255
            labels = torch.full((len(chunk),), self.target, device=device)
            with torch.enable_grad():
                adv = pgd_linf(surrogate, images, labels, self.recipe.pgd, start_noise=start)
            # (255 x).astype(uint8): truncation towards zero, then modulo 256.
            cast = adv.mul(255).trunc().to(torch.int64).remainder(256).to(torch.uint8)
            parts.append(cast.to(x.device))
        return torch.cat(parts)


@register_attack
class CleanLabelDST(LabelConsistent):
    """D-ST/D-BR "CL": PGD-Linf eps 8/255, 4 steps of 2/255 with a random start and no clamp, on
    a standard ResNet-18 (with max-pool) fed [0, 1] images although it was trained on normalised
    ones; the uint8 cast wraps; D-ST's inset four-corner layout (docs/attacks.md §5.5). Its
    mini recipe plants no backdoor on digits (reproductions/dst_dbr/NOTES.md "cl-dst on
    digits")."""

    name = "cl-dst"
    papers = 'D-ST/D-BR "CL"'
    stamp = staticmethod(stamp_four_corners_dst)
    recipes = MappingProxyType(
        {
            "paper": LabelConsistentRecipe(
                # train_clean_withTrans.py: 200 epochs, SGD lr 0.01 (momentum 0.9, weight decay
                # 5e-4), x0.1 at 100 and 150, crop + flip, normalised inputs.
                surrogate=SurrogateTraining(
                    model="resnet18-cifar-maxpool",
                    epochs=200,
                    batch_size=128,
                    sgd=SGDConfig(lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=False),
                    milestones=(100, 150),
                    augment=_CIFAR_AUGMENT,
                    normalization=CIFAR10_NORMALIZATION,
                ),
                pgd=PGDConfig(eps=8 / 255, step=2 / 255, steps=4, clamp=False),
                pgd_skips_normalization=True,
            ),
            "mini": LabelConsistentRecipe(
                surrogate=replace(MINI_SURROGATE, normalization=CIFAR10_NORMALIZATION),
                pgd=PGDConfig(eps=8 / 255, step=2 / 255, steps=4, clamp=False),
                pgd_skips_normalization=True,
            ),
        }
    )


@register_attack
class LCBA(LabelConsistent):
    """T&R "LCBA": every target-class image replaced by its PGD-Linf eps 16/255 version against
    an adversarially trained model (MadryLab's released ``inf_16``, regenerated here: 100 steps
    of 2/255 with a random start, our reading), then the grid in all four corners, flush
    (docs/attacks.md §5.5). Its mini recipe plants no backdoor on digits
    (reproductions/trap_replace/NOTES.md "lcba on digits")."""

    name = "lcba"
    papers = 'Trap-and-Replace "LCBA"'
    stamp = staticmethod(stamp_four_corners_flush)
    recipes = _against_adversarial_surrogates(PGDConfig(eps=16 / 255, step=2 / 255, steps=100))


@register_attack
class CleanLabelABL(LabelConsistent):
    """ABL "CL": PGD-Linf eps 8/255, 100 steps of 1.5/255 on an adversarially trained ResNet-18
    (the PyTorch port ABL's README links; ABL's own settings are unpublished), then the
    four-corner grid of ABL's data loader, which is D-ST's layout (docs/attacks.md §5.5). Its
    mini recipe plants no backdoor on digits (reproductions/abl/NOTES.md "cl-abl on digits")."""

    name = "cl-abl"
    papers = 'ABL "CL"'
    stamp = staticmethod(stamp_four_corners_dst)
    recipes = _against_adversarial_surrogates(PGDConfig(eps=8 / 255, step=1.5 / 255, steps=100))
