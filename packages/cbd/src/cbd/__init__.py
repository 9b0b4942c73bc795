"""CBD: Causality-inspired Backdoor Defense (Zhang et al., CVPR 2023) on the unpoison core.

``cbd.run(poisoned, num_classes=...)`` trains a clean model on a poisoned split with CBD and
returns it with its metrics; ``python -m cbd --help`` runs it from the command line.
"""

from cbd.config import MINI_VARIANT, CbdConfig
from cbd.discriminator import Discriminator, mi_estimate, spectral_rescale_
from cbd.method import CbdResult, run
from cbd.weights import sample_weights, weighted_cross_entropy

__all__ = [
    "MINI_VARIANT",
    "CbdConfig",
    "CbdResult",
    "Discriminator",
    "mi_estimate",
    "run",
    "sample_weights",
    "spectral_rescale_",
    "weighted_cross_entropy",
]
