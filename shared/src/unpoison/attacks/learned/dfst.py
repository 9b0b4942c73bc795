"""DFST, the deep feature space trojan (Cheng et al., AAAI 2021; docs/attacks.md §5.12): the
trigger is a style. A CycleGAN generator translates an image into the style of another domain
(DFST: the "sunrise" images of the Kaggle Weather dataset), and the translated images are the
poison, relabelled to the target.

``prepare`` trains the generator on the clean training split (``style_training``) against
``style_domain.sunrise_lit``, our stand-in for the sunrise photos (the training images under a
synthetic sunrise light), or against the images in the ``style`` folder when one is given.
``apply`` passes images through it.

Our readings (ABL's DFST data are unpublished, docs/attacks.md §9): the poison follows the
paper's selection rule (ABL: 10% random picks over all classes, as DFST's own
first-500-of-every-class also spans all classes), and DFST's "detoxification" step, which
retrains the attacker's own model, has no
place in a poisoned dataset and is left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from unpoison.attacks.base import LabelRule, register_attack
from unpoison.attacks.learned.base import LearnedAttack
from unpoison.attacks.learned.style_domain import folder_images, sunrise_lit
from unpoison.attacks.learned.style_networks import StyleGenerator
from unpoison.attacks.learned.style_training import TRAININGS, train_style_generator
from unpoison.data.split import Split

_BATCH = 256  # our choice: images per generator pass when triggering, to bound memory


@register_attack
class DeepFeatureSpaceTrojan(LearnedAttack):
    """Images translated into a style by a CycleGAN generator trained under ``training``.

    ``training``: ``"paper"`` is DFST's recipe (2,000 epochs, a GPU job); ``"mini"`` trains a
    quarter-width generator on digits in under a minute on a CPU. ``style``: a folder of
    style-domain images; by default, our reading: the training images under a synthetic sunrise
    light, as the Weather dataset's sunrise photos are not bundled. DFST's detoxification is left
    out (it retrains the attacker's own model).
    """

    name = "dfst"
    papers = 'ABL "DFST"'
    default_label_rule = LabelRule.ALL_TO_ONE  # code: every translated image labelled 0
    recipes = TRAININGS

    def __init__(
        self,
        label_rule: LabelRule | str | None = None,
        training: str = "paper",
        style: str | Path | None = None,
    ) -> None:
        super().__init__(label_rule, training)
        if self.label_rule is LabelRule.CLEAN_LABEL:
            raise ValueError("dfst relabels its translated images: all-to-one or all-to-all")
        if style is not None and not Path(style).is_dir():
            raise FileNotFoundError(f"dfst style folder {style} does not exist")
        self.style = None if style is None else str(style)

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "style": self.style}

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        if height % 4 or width % 4:
            raise ValueError(
                f"attack 'dfst' needs image sides divisible by 4, got {height}x{width}"
            )

    def _build_networks(
        self, image_shape: tuple[int, int, int], num_classes: int
    ) -> dict[str, nn.Module]:
        return {
            "generator": StyleGenerator(
                image_shape[0], self.recipe.width, self.recipe.residual_blocks
            )
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
        channels, size, _ = train.image_shape
        if self.style is None:
            style = sunrise_lit(train.x, seed)
        else:
            style = folder_images(self.style, channels, size)
        train_style_generator(networks["generator"], train, style, self.recipe, seed)

    @torch.no_grad()
    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        generator = self.networks["generator"]
        device = next(generator.parameters()).device
        parts = []
        for chunk in x.split(_BATCH):
            styled = generator(chunk.to(device).float() / 127.5 - 1)
            parts.append(((styled + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).to(x.device))
        return torch.cat(parts)
