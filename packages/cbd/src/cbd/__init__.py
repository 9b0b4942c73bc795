"""CBD: Causality-inspired Backdoor Defense (Zhang et al., CVPR 2023) on the unpoison core.

``cbd.DEFENSE`` is the defense (``unpoison.defenses.Defense``): ``cbd.DEFENSE.run(...)`` trains a
clean model on a poisoned split with CBD; ``python -m cbd --help`` runs it from the command line.
"""

from cbd.config import MINI_VARIANT, PAPER_VARIANT, CbdConfig
from cbd.discriminator import Discriminator, mi_estimate, spectral_rescale_
from cbd.method import DEFENSE, run
from cbd.weights import sample_weights, weighted_cross_entropy

__all__ = [
    "DEFENSE",
    "MINI_VARIANT",
    "PAPER_VARIANT",
    "CbdConfig",
    "Discriminator",
    "mi_estimate",
    "run",
    "sample_weights",
    "spectral_rescale_",
    "weighted_cross_entropy",
]
