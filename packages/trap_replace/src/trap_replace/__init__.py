"""Trap and Replace (Wang et al., NeurIPS 2022) on the unpoison core: ``trap_replace.DEFENSE``."""

from trap_replace.config import MINI_VARIANT, TrapReplaceConfig
from trap_replace.cutmix import draw_box, paste
from trap_replace.losses import bait_and_trap_loss, cutmix_loss, total_variation
from trap_replace.method import DEFENSE, STAGES, run

__all__ = [
    "DEFENSE",
    "MINI_VARIANT",
    "STAGES",
    "TrapReplaceConfig",
    "bait_and_trap_loss",
    "cutmix_loss",
    "draw_box",
    "paste",
    "run",
    "total_variation",
]
