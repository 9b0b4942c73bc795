"""Dynamic, the input-aware backdoor (Nguyen & Tran, NeurIPS 2020): every image gets its own
trigger, made by a generator network and pasted where a mask network says.

``prepare`` trains the mask generator M and the trigger generator G on the clean training split
(``unpoison.attacks.learned.input_aware_training``); ``apply`` then triggers a batch as
``x + (G(x) - x) * M_thr(x)`` with both networks in eval mode, as ABL's and CBD's scripts do when
they write their fixed poisoned sets from a trained checkpoint (docs/attacks.md §5.8).

Our departures: ABL's and CBD's scripts mix units (the pattern is normalised, the image is not);
we apply the attack as its own paper defines it, all in one unit. The triggered image is rounded
to uint8, where ABL keeps floats.
"""

from __future__ import annotations

import torch
from torch import nn

from unpoison.attacks.base import LabelRule, register_attack
from unpoison.attacks.learned.base import LearnedAttack
from unpoison.attacks.learned.input_aware_net import (
    InputAwareGenerator,
    apply_input_aware_trigger,
    threshold_mask,
)
from unpoison.attacks.learned.input_aware_training import TRAININGS, train_input_aware
from unpoison.data.split import Split

_BATCH = 256  # our choice: images per generator pass when triggering, to bound memory


@register_attack
class Dynamic(LearnedAttack):
    """The input-aware attack with generators trained under the ``training`` recipe.

    ``training``: ``"paper"`` is the official CIFAR-10 recipe (25 + 575 epochs, a GPU job);
    ``"mini"`` trains small generators on digits in about a minute on a CPU.
    """

    name = "dynamic"
    papers = 'ABL "Dynamic", CBD "Dynamic"'
    default_label_rule = LabelRule.ALL_TO_ONE  # code: all2one (all2all_mask also supported)
    recipes = TRAININGS

    def __init__(self, label_rule: LabelRule | str | None = None, training: str = "paper") -> None:
        super().__init__(label_rule, training)
        if self.label_rule is LabelRule.CLEAN_LABEL:
            raise ValueError("the input-aware attack relabels its images: all-to-one or all-to-all")

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        side = 2**self.recipe.steps
        if height % side or width % side:
            raise ValueError(
                f"attack 'dynamic' ({self.training}) needs image sides divisible by {side}, "
                f"got {height}x{width}"
            )

    def _build_networks(
        self, image_shape: tuple[int, int, int], num_classes: int
    ) -> dict[str, nn.Module]:
        channels = image_shape[0]
        return {
            "generator": InputAwareGenerator(
                channels, channels, self.recipe.width, self.recipe.steps
            ),
            "mask": InputAwareGenerator(channels, 1, self.recipe.width, self.recipe.steps),
        }

    def _train_networks(
        self,
        networks: dict[str, nn.Module],
        train: Split,
        *,
        target: int,
        num_classes: int,
        seed: int,
    ) -> None:
        self.check_image_shape(*train.image_shape)
        train_input_aware(
            networks["generator"],
            networks["mask"],
            train,
            attack_labels=lambda y: self.poisoned_labels(y, target, num_classes),
            num_classes=num_classes,
            config=self.recipe,
            seed=seed,
        )

    @torch.no_grad()
    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        generator, mask = self.networks["generator"], self.networks["mask"]
        device = next(generator.parameters()).device
        parts = []
        for chunk in x.split(_BATCH):
            images = chunk.to(device).float() / 255
            triggered = apply_input_aware_trigger(
                images, generator(images), threshold_mask(mask(images))
            )
            parts.append(triggered.mul(255).round().clamp(0, 255).to(torch.uint8).to(x.device))
        return torch.cat(parts)
