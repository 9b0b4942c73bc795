"""FC, feature collision ("Poison Frogs", Shafahi et al. 2018), as a clean-label backdoor.

Poison Frogs is a targeted attack on one test image; ABL lists FC with an attack success rate
and no recipe (docs/attacks.md §5.10). Our reading, the hidden-trigger form: the poisoned
images are target-class images, labels unchanged, perturbed so that a clean surrogate's
penultimate features collide with those of *triggered* non-target images; at test time the
trigger (ABL's BadNets grid) on any image should then read as the target class.

Crafting follows the poisoning benchmark's
``aks2203/poisoning-benchmark:poison_crafting/craft_poisons_fc.py`` (L-inf mode, its defaults),
batched over images:

- the goal is the mean surrogate feature of ``samples`` triggered non-target training images
  (the benchmark's one target image's features; the mean is our reading);
- x starts at the watermark ``0.3 * w + 0.7 * base``, w the mean triggered image;
- each of 120 iterations takes a gradient step of ``step_size`` on ||f(x) - goal||^2, projects it
  into the ``eps`` = 8/255 L-inf ball around the base and into [0, 1]; a step is kept only when
  the objective at the current x is not above the last kept one, otherwise the step size is
  multiplied by 0.2; an image stops when a kept step moves it by less than 1e-5 (relative).

On digits the mini FC plants no backdoor in the mini No-defense training (ASR 0.0): Poison Frogs
collides features for a victim that reuses the surrogate's feature extractor, and a victim trained
from scratch learns its own. Measured on digits: reproductions/abl/NOTES.md "fc on digits".
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import torch
from torch import nn

from unpoison.attacks.badnets import BadNetsGrid
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

_FEATURE_BATCH = 256  # our choice: images per forward pass when computing the goal
_CONVERGED = 1e-5  # benchmark: stop when ||x - x_new|| / ||x|| < 1e-5


@dataclass(frozen=True)
class FeatureCollisionRecipe:
    """The clean surrogate and the crafting settings (the benchmark's defaults)."""

    surrogate: SurrogateTraining
    samples: int = 1000  # ours: triggered non-target images whose mean feature is the goal
    iterations: int = 120  # benchmark: --crafting_iters
    step_size: float = 0.001  # benchmark: --step_size
    backoff: float = 0.2  # benchmark: step_size *= 0.2 when the objective rises
    watermark: float = 0.3  # benchmark: --watermark_coeff
    eps: float = 8 / 255  # benchmark: --epsilon (L-inf)

    def __post_init__(self) -> None:
        for name in ("samples", "iterations"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not (0 < self.step_size and 0 < self.backoff < 1 and 0 <= self.watermark <= 1):
            raise ValueError("step_size must be > 0, backoff in (0, 1), watermark in [0, 1]")
        if not 0 < self.eps <= 1:
            raise ValueError(f"eps must be in (0, 1], got {self.eps}")


# The feature extractor (the benchmark's comes from CIFAR-100; ABL does not say which):
# ``CLEAN_RESNET18``; mini: ``MINI_SURROGATE`` and a 256-image goal.
_MINI = FeatureCollisionRecipe(surrogate=MINI_SURROGATE, samples=256)


class _Goal(nn.Module):
    """The goal feature and the watermark image, kept as a module so they are cached with the
    surrogate."""

    def __init__(self, image_shape: tuple[int, int, int], feature_dim: int) -> None:
        super().__init__()
        self.register_buffer("features", torch.zeros(feature_dim))
        self.register_buffer("watermark", torch.zeros(image_shape))


@register_attack
class FeatureCollision(LearnedAttack):
    """ABL "FC": target-class images perturbed (8/255) so that a clean surrogate sees them as
    images carrying ABL's BadNets grid; the test-time trigger is that grid (our reading: ABL gives
    no recipe). Its mini recipe plants no backdoor on digits (reproductions/abl/NOTES.md "fc on
    digits")."""

    name = "fc"
    papers = 'ABL "FC"'
    default_label_rule = LabelRule.CLEAN_LABEL  # Poison Frogs keeps the base images' labels
    recipes = MappingProxyType(
        {"paper": FeatureCollisionRecipe(surrogate=CLEAN_RESNET18), "mini": _MINI}
    )
    trigger = BadNetsGrid()

    def __init__(self, training: str = "paper") -> None:
        super().__init__(training=training)

    def check_image_shape(self, channels: int, height: int, width: int) -> None:
        super().check_image_shape(channels, height, width)
        self.trigger.check_image_shape(channels, height, width)

    def _build_networks(
        self, image_shape: tuple[int, int, int], num_classes: int
    ) -> dict[str, nn.Module]:
        surrogate = build_surrogate(self.recipe.surrogate, num_classes)
        return {"surrogate": surrogate, "goal": _Goal(image_shape, surrogate.feature_dim)}

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
        train_surrogate(surrogate, train, self.recipe.surrogate, seed)  # ends in eval mode
        generator = torch.Generator().manual_seed(seed)
        others = (train.y != target).nonzero().squeeze(1).cpu()
        picked = others[torch.randperm(len(others), generator=generator)[: self.recipe.samples]]
        triggered = self.trigger.apply(train.x[picked.to(train.x.device)])
        with torch.no_grad():
            features = torch.cat(
                [
                    surrogate.forward_features(chunk.float() / 255)
                    for chunk in triggered.split(_FEATURE_BATCH)
                ]
            )
        networks["goal"].features.copy_(features.mean(0))
        networks["goal"].watermark.copy_(triggered.float().mean(0) / 255)

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        if not train:
            return self.trigger.apply(x)
        surrogate, goal = self.networks["surrogate"], self.networks["goal"]
        device = goal.features.device
        base = x.to(device).float() / 255
        crafted = craft(surrogate, base, goal.features, goal.watermark, self.recipe)
        return crafted.mul(255).round().clamp(0, 255).to(torch.uint8).to(x.device)


def craft(
    surrogate: nn.Module,
    base: torch.Tensor,
    goal: torch.Tensor,
    watermark: torch.Tensor,
    recipe: FeatureCollisionRecipe,
) -> torch.Tensor:
    """Feature-collision images for ``base`` ([N, C, H, W] in [0, 1]), each image on its own
    step size and stopping rule (module docstring); returns images within ``recipe.eps`` of it."""
    x = recipe.watermark * watermark + (1 - recipe.watermark) * base
    step = torch.full((len(base), 1, 1, 1), recipe.step_size, device=base.device)
    last = torch.full((len(base),), float("inf"), device=base.device)
    done = torch.zeros(len(base), dtype=torch.bool, device=base.device)
    for _ in range(recipe.iterations):
        x = x.detach().requires_grad_(True)
        objective = (surrogate.forward_features(x) - goal).pow(2).sum(1)
        (grad,) = torch.autograd.grad(objective.sum(), x)
        with torch.no_grad():
            stepped = x - step * grad
            candidate = (base + (stepped - base).clamp(-recipe.eps, recipe.eps)).clamp(0, 1)
            keep = (objective <= last) & ~done
            moved = (x - candidate).flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1)
            done |= keep & (moved < _CONVERGED)
            step[~keep & ~done] *= recipe.backoff
            last = torch.where(keep, objective, last)
            x = torch.where(keep[:, None, None, None], candidate, x)
    return x.detach()
