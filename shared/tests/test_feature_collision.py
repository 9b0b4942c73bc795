"""FC: the feature-collision crafting keeps its budget and brings features to the goal; the test
trigger is ABL's BadNets grid."""

from dataclasses import replace

import pytest
import torch
from learned_attacks import tiny_prepared
from trigger_images import random_images
from unpoison import attacks
from unpoison.attacks.learned.feature_collision import FeatureCollisionRecipe, craft
from unpoison.attacks.learned.surrogate import SurrogateTraining
from unpoison.models import create_model

RECIPE = FeatureCollisionRecipe(surrogate=SurrogateTraining(model="wrn-16-1", epochs=1))


def objective(model, x, goal) -> torch.Tensor:
    with torch.no_grad():
        return (model.forward_features(x) - goal).pow(2).sum(1)


def setup_case():
    torch.manual_seed(0)
    model = create_model("wrn-16-1").eval().requires_grad_(False)
    base = random_images(6, seed=1).float() / 255
    goal_images = random_images(6, seed=2).float() / 255
    return model, base, model.forward_features(goal_images).mean(0), goal_images.mean(0)


@pytest.mark.parametrize("step_size", [1e-3, 10.0])
def test_crafting_never_leaves_the_budget(step_size) -> None:
    """Even a huge step (kept once, then backed off by 0.2 per rise) stays in the 8/255 ball."""
    model, base, goal, watermark = setup_case()
    crafted = craft(model, base, goal, watermark, replace(RECIPE, step_size=step_size))
    assert (crafted - base).abs().max() <= RECIPE.eps + 1e-6
    assert crafted.min() >= 0 and crafted.max() <= 1
    assert (crafted - base).abs().max() > RECIPE.eps / 2  # it did move


def test_crafting_brings_the_features_closer_to_the_goal() -> None:
    model, base, goal, watermark = setup_case()
    crafted = craft(model, base, goal, watermark, replace(RECIPE, iterations=30))
    first = craft(model, base, goal, watermark, replace(RECIPE, iterations=1))
    assert (objective(model, crafted, goal) < objective(model, first, goal)).all()


def test_the_test_trigger_is_abls_badnets_grid(tmp_path) -> None:
    attack = tiny_prepared("fc", tmp_path)
    x = random_images(3)
    assert torch.equal(attack.apply(x, train=False), attacks.create("badnets-grid").apply(x))
    poisoned = attack.apply(x, train=True)
    assert (poisoned.float() - x.float()).abs().max() <= 8 + 1  # 8/255 and the rounding


def test_fc_checks_its_settings() -> None:
    with pytest.raises(ValueError, match="eps"):
        replace(RECIPE, eps=0.0)
    with pytest.raises(ValueError, match="iterations"):
        replace(RECIPE, iterations=0)
