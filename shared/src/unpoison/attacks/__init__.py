"""Backdoor attacks on raw uint8 images, and the poisoning of a training split.

``create(name, **params)`` builds an attack and ``list_attacks()`` names them all; importing this
package registers every attack module.
"""

from unpoison.attacks import (  # noqa: F401  (importing a module registers its attacks)
    badnets,
    blend,
    composite,
    invisible,
    kitty,
    learned,
    sig,
    smooth,
    ssba,
    trojan,
    trojan_files,
    wanet,
)
from unpoison.attacks.base import ATTACKS, Attack, LabelRule, create, list_attacks
from unpoison.attacks.poison import SELECTIONS, backdoor_test_set, poison, select_poison

__all__ = [
    "ATTACKS",
    "SELECTIONS",
    "Attack",
    "LabelRule",
    "backdoor_test_set",
    "create",
    "list_attacks",
    "poison",
    "select_poison",
]
