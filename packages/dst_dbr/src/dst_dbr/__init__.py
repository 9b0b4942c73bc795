"""D-ST and D-BR (Chen, Wu & Wang, NeurIPS 2022) on the unpoison core: ``dst_dbr.DST`` trains a
secure model from scratch, ``dst_dbr.DBR`` purifies a backdoored one (both
``unpoison.defenses.Defense``). Both split the poisoned set with the shared
sample-distinguishment module (``dst_dbr.sd``)."""

from dst_dbr.centre_separation import centre_separation_loss
from dst_dbr.config import (
    CIFAR10_NORMALIZATION,
    CIFAR100_NORMALIZATION,
    CIFAR100_ST_NORMALIZATION,
    MINI_DBR,
    MINI_DST,
    BackdooredConfig,
    BRConfig,
    DBRConfig,
    DSTConfig,
    SDConfig,
    STConfig,
)
from dst_dbr.dbr import DEFENSE as DBR
from dst_dbr.dst import DEFENSE as DST
from dst_dbr.fct import CLEAN, POISONED, UNCERTAIN, fct_scores, split_flags, thresholds
from dst_dbr.mixed_ce import mixed_cross_entropy
from dst_dbr.sd import SampleSplit
from dst_dbr.st import extractor_lr

__all__ = [
    "CIFAR10_NORMALIZATION",
    "CIFAR100_NORMALIZATION",
    "CIFAR100_ST_NORMALIZATION",
    "CLEAN",
    "DBR",
    "DST",
    "MINI_DBR",
    "MINI_DST",
    "POISONED",
    "UNCERTAIN",
    "BRConfig",
    "BackdooredConfig",
    "DBRConfig",
    "DSTConfig",
    "SDConfig",
    "STConfig",
    "SampleSplit",
    "centre_separation_loss",
    "extractor_lr",
    "fct_scores",
    "mixed_cross_entropy",
    "split_flags",
    "thresholds",
]
