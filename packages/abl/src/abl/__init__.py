"""ABL: Anti-Backdoor Learning (Li et al., NeurIPS 2021) on the unpoison core.

``abl.DEFENSE`` is the defense (``unpoison.defenses.Defense``): ``abl.DEFENSE.run(...)`` trains a
model on a poisoned split with ABL; ``python -m abl --help`` runs it from the command line.
"""

from abl.config import MINI_VARIANT, PAPER_VARIANT, AblConfig
from abl.method import DEFENSE, run

__all__ = ["DEFENSE", "MINI_VARIANT", "PAPER_VARIANT", "AblConfig", "run"]
