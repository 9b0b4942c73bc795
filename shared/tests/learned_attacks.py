"""Learned attacks with tiny networks, trained in a second or two on random images, for the tests
of properties every attack must have (their real training is tested in its own modules)."""

from dataclasses import replace
from pathlib import Path

import torch
from trigger_images import random_images
from unpoison.attacks import create
from unpoison.attacks.learned import LearnedAttack
from unpoison.attacks.learned.dfst import DeepFeatureSpaceTrojan
from unpoison.attacks.learned.dynamic import Dynamic
from unpoison.attacks.learned.feature_collision import FeatureCollision
from unpoison.attacks.learned.latent_backdoor import LatentBackdoor
from unpoison.data.split import Split


def tiny_prepared(name: str, cache_dir: Path | None, target: int = 0) -> LearnedAttack:
    """The learned attack ``name`` with its mini recipe cut to one short epoch per network (and
    a few optimisation steps), prepared on 32 random labelled images (loaded from ``cache_dir``
    after the first time)."""
    attack = create(name, training="mini")
    if isinstance(attack, Dynamic):
        attack.recipe = replace(
            attack.recipe, width=4, mask_epochs=1, joint_epochs=1, batch_size=16
        )
    elif isinstance(attack, DeepFeatureSpaceTrojan):
        attack.recipe = replace(
            attack.recipe, width=4, discriminator_width=4, epochs=1, batch_size=16
        )
    elif isinstance(attack, FeatureCollision):
        surrogate = replace(attack.recipe.surrogate, epochs=1, batch_size=16)
        attack.recipe = replace(attack.recipe, surrogate=surrogate, samples=16, iterations=5)
    elif isinstance(attack, LatentBackdoor):
        surrogate = replace(attack.recipe.surrogate, epochs=1, batch_size=16)
        attack.recipe = replace(attack.recipe, surrogate=surrogate, samples=16, steps=2)
    else:  # label-consistent: PGD keeps its budget and step size, with 5 steps instead of 100
        surrogate = replace(attack.recipe.surrogate, epochs=1, batch_size=16)
        pgd = replace(attack.recipe.pgd, steps=min(attack.recipe.pgd.steps, 5))
        attack.recipe = replace(attack.recipe, surrogate=surrogate, pgd=pgd)
    train = Split(random_images(32, seed=5), torch.arange(32) % 10)
    attack.prepare(train, target=target, num_classes=10, cache_dir=cache_dir)
    return attack
