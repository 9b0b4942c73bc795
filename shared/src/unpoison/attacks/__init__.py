"""Backdoor attacks on raw uint8 images, and the poisoning of a training split.

``create(name, **params)`` builds an attack and ``list_attacks()`` names them all; importing this
package registers every attack module.
"""

from unpoison.attacks import badnets, blend, sig, trojan, wanet  # noqa: F401  (registers them)
from unpoison.attacks.base import ATTACKS, Attack, LabelRule, create, list_attacks
from unpoison.attacks.poison import SELECTIONS, backdoor_test_set, poison

__all__ = [
    "ATTACKS",
    "SELECTIONS",
    "Attack",
    "LabelRule",
    "backdoor_test_set",
    "create",
    "list_attacks",
    "poison",
]
