"""ABL: Anti-Backdoor Learning (Li et al., NeurIPS 2021) on the unpoison core.

``abl.run(poisoned, num_classes=...)`` trains a model on a poisoned split with ABL and returns it
with its metrics; ``python -m abl --help`` runs it from the command line.
"""

from abl.config import MINI_VARIANT, PAPER_VARIANT, AblConfig
from abl.method import AblResult, run

__all__ = ["MINI_VARIANT", "PAPER_VARIANT", "AblConfig", "AblResult", "run"]
