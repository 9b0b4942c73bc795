"""LBA, the latent backdoor (Yao et al., CCS 2019), as a data-poisoning trigger.

The official code (Huiying-Li/Latent-Backdoor ``pattern_gen.py`` and ``latent_utils.py``;
docs/attacks.md §5.11) optimises a square patch so that triggered non-target images reach the
target class's activations in a latent layer of a clean model, then injects it by training that
model. ABL lists LBA among its data-poisoning attacks without code or recipe; our reading keeps
the trigger optimisation and poisons data with it: the optimised patch replaces the pixels of a
fraction of the non-target images, which are relabelled to the target.

The patch is a square of side ``round(size_ratio * H)`` placed ``inset`` pixels in from the bottom
and right edges. Its pattern is ``(tanh(w) + 1) / 2`` with ``w`` drawn uniformly at random, then
Adam-optimised for ``steps`` steps on ``samples`` non-target training images to minimise the mean
squared distance between their penultimate features (the surrogate's ``forward_features``) and
the mean feature of the target-class images. The target mean, rather than per-image random target
activations, is our reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.attacks.base import LabelRule, register_attack
from unpoison.attacks.learned.base import LearnedAttack
from unpoison.attacks.learned.surrogate import (
    CLEAN_RESNET18,
    MINI_SURROGATE,
    SurrogateTraining,
    build_surrogate,
    train_surrogate,
)
from unpoison.data.split import Split

_ADAM_BETAS = (0.5, 0.9)  # code: Adam(beta_1 0.5, beta_2 0.9)
_FEATURE_BATCH = 256  # our choice: images per forward pass while optimising


@dataclass(frozen=True)
class LatentTriggerRecipe:
    """The clean surrogate and the trigger optimisation on its features."""

    surrogate: SurrogateTraining
    size_ratio: float = 0.2  # code: pattern_size_ratio
    inset: int = 1  # code: construct_mask leaves 1 pixel to the bottom and right edges
    samples: int = 1000  # code: 1,000 triggered non-target images
    steps: int = 50  # code: 50 optimisation steps
    lr: float = 0.1  # code: Adam lr 0.1

    def side(self, height: int) -> int:
        """The patch side on images ``height`` pixels high (at least one pixel)."""
        return max(1, round(self.size_ratio * height))


# The clean model the trigger is optimised on (ABL does not say which): ``CLEAN_RESNET18``; mini:
# ``MINI_SURROGATE`` and 256 optimisation images.
_MINI = LatentTriggerRecipe(surrogate=MINI_SURROGATE, samples=256)


class _Pattern(nn.Module):
    """The optimised patch [C, side, side] in [0, 1], kept as a module so it is cached with the
    surrogate."""

    def __init__(self, channels: int, side: int) -> None:
        super().__init__()
        self.register_buffer("pattern", torch.zeros(channels, side, side))


@register_attack
class LatentBackdoor(LearnedAttack):
    """ABL "LBA": a 20%-side square patch, 1 px in from the bottom-right corner, optimised on a
    clean surrogate so that triggered images look like the target class in its penultimate
    features; poisoned images carry it and the target label (our reading: ABL gives no recipe)."""

    name = "lba"
    papers = 'ABL "LBA"'
    default_label_rule = LabelRule.ALL_TO_ONE
    recipes = MappingProxyType(
        {"paper": LatentTriggerRecipe(surrogate=CLEAN_RESNET18), "mini": _MINI}
    )

    def __init__(self, training: str = "paper") -> None:
        super().__init__(training=training)

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        reach = self.recipe.side(height) + self.recipe.inset
        if height < reach or width < reach:
            raise ValueError(
                f"attack 'lba' needs images of at least {reach}x{reach} pixels, "
                f"got {height}x{width}"
            )

    def _build_networks(
        self, image_shape: tuple[int, int, int], num_classes: int
    ) -> dict[str, nn.Module]:
        self.check_image_shape(*image_shape)
        side = self.recipe.side(image_shape[1])
        return {
            "surrogate": build_surrogate(self.recipe.surrogate, num_classes),
            "trigger": _Pattern(image_shape[0], side),
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
        surrogate = networks["surrogate"]
        train_surrogate(surrogate, train, self.recipe.surrogate, seed)
        networks["trigger"].pattern.copy_(self._optimise(surrogate, train, target, seed))

    def _optimise(self, surrogate: nn.Module, train: Split, target: int, seed: int) -> torch.Tensor:
        device = next(surrogate.parameters()).device
        surrogate.eval().requires_grad_(False)
        with torch.no_grad():
            goal = torch.cat(
                [
                    surrogate.forward_features(chunk.float() / 255)
                    for chunk in train.x[train.y == target].split(_FEATURE_BATCH)
                ]
            ).mean(0)
        generator = torch.Generator().manual_seed(seed)
        others = (train.y != target).nonzero().squeeze(1).cpu()
        picked = others[torch.randperm(len(others), generator=generator)[: self.recipe.samples]]
        images = train.x[picked.to(train.x.device)].float() / 255
        side = self.recipe.side(train.image_shape[1])
        shape = (train.image_shape[0], side, side)
        w = (torch.rand(shape, generator=generator) * 2 - 1).to(device).requires_grad_(True)
        optimizer = torch.optim.Adam([w], lr=self.recipe.lr, betas=_ADAM_BETAS)
        for _ in range(self.recipe.steps):
            optimizer.zero_grad(set_to_none=True)
            pattern = (torch.tanh(w) + 1) / 2
            for chunk in images.split(_FEATURE_BATCH):
                features = surrogate.forward_features(self._stamp(chunk, pattern))
                loss = F.mse_loss(features, goal.expand_as(features), reduction="sum")
                (loss / (len(images) * goal.numel())).backward()
            optimizer.step()
        return ((torch.tanh(w) + 1) / 2).detach()

    def _stamp(self, x: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
        """``x`` with the patch region replaced by ``pattern`` (any dtype, same value range)."""
        side, inset = pattern.shape[-1], self.recipe.inset
        height, width = x.shape[-2:]
        rows = slice(height - inset - side, height - inset)
        cols = slice(width - inset - side, width - inset)
        out = x.clone()
        out[:, :, rows, cols] = pattern.to(x.dtype)
        return out

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        pattern = self.networks["trigger"].pattern
        return self._stamp(x, pattern.mul(255).round().to(x.device))
