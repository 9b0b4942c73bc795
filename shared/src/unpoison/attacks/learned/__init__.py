"""Learned attacks: attacks whose trigger comes from networks the attacker trains first (a
trigger generator, a style generator, a surrogate classifier, ...), with the training of those
networks and their on-disk cache.

``base`` holds the ``LearnedAttack`` base class and the network cache
(``default_network_cache``); importing this package registers every learned attack.
"""

from unpoison.attacks.learned import (  # noqa: F401  (importing a module registers its attacks)
    dfst,
    dynamic,
    feature_collision,
    label_consistent,
    latent_backdoor,
)
from unpoison.attacks.learned.base import LearnedAttack, default_network_cache

__all__ = ["LearnedAttack", "default_network_cache"]
