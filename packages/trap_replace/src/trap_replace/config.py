"""Trap and Replace's hyperparameters, each with where it comes from.

Sources: "code" = the official repository (VITA-Group/Trap-and-Replace-Backdoor-Defense,
``backdoor_trapper_bait_and_trap.py`` for stage 1 and ``backdoor_trapper_remove_and_patch.py`` for
stage 2), "paper" = Wang et al., NeurIPS 2022. The stage-2 recipe (Adam at lr 0.03, CutMix on every
batch, label smoothing) is only in the code (spec methods.md §3.3-3.6).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from unpoison.data.augment import NO_AUGMENT, Augment
from unpoison.train.optim import AdamConfig

CROP_FLIP = Augment(crop_padding=4, flip=True)  # code: RandomCrop(32, 4) + flip, both stages


@dataclass(frozen=True)
class TrapReplaceConfig:
    """Every setting of one T&R run. Defaults are the official code's CIFAR-10 settings."""

    model: str = "wrn-16-1-tr"  # code: WRN16AE / WRN16AUX (spec methods.md §0.5b)
    stem_end_block: int = 5  # code default; paper Table 5 moves the split (4, 5 or 6)

    # Stage 1, "bait and trap": stem + light head + decoder on the poisoned split.
    trap_epochs: int = 200  # code
    trap_batch_size: int = 256  # code, drop_last
    trap_adam: AdamConfig = field(default_factory=AdamConfig)  # code: Adam 1e-3, wd 5e-4
    trap_augment: Augment = CROP_FLIP  # code
    reconstruction_weight: float = 10.0  # code: CE + 10 * MSE(rec, x) + 1 * TV(rec)
    tv_weight: float = 1.0  # code
    reconstruct: bool = True  # False = paper Table 4's "w/o aux reconstruction" ablation

    # Stage 2, "replace": the stem frozen (eval mode), a fresh head trained on the clean holdout.
    replace_head: bool = True  # False = paper Table 4's "w/o replacing head": stage 1's model
    replace_epochs: int = 100  # code
    replace_batch_size: int = 64  # code, drop_last
    replace_adam: AdamConfig = field(
        default_factory=lambda: AdamConfig(lr=0.03, weight_decay=5e-4)
    )  # code: Adam lr 0.03 (sic), wd 5e-4, on the head's parameters only
    replace_augment: Augment = CROP_FLIP  # code, then CutMix
    cutmix_beta: float = 1.0  # code: CutMix with beta 1 on every batch (probability 1)
    label_smoothing: float = 0.1  # code: timm LabelSmoothingCrossEntropy(0.1)
    head_dropout: float = 0.5  # code: dropout 0.5 in the new head's block (the only active one)

    def __post_init__(self) -> None:
        for name in (
            "trap_epochs",
            "trap_batch_size",
            "replace_epochs",
            "replace_batch_size",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.stem_end_block not in (4, 5, 6):
            raise ValueError(f"stem_end_block must be 4, 5 or 6, got {self.stem_end_block!r}")
        for name in ("reconstruction_weight", "tv_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.cutmix_beta > 0:
            raise ValueError(f"cutmix_beta must be > 0, got {self.cutmix_beta}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0 <= self.head_dropout < 1:
            raise ValueError(f"head_dropout must be in [0, 1), got {self.head_dropout}")


# The mini presets' rescaling for digits (1,437 training images; T&R's holdout is 20% of them
# there, see reproductions/trap_replace/presets.py), each change measured on digits (seed 0,
# target 0; "ASR / CA_all" after stage 2, No defense at 99.4 / 99.2 on badnets-grid). Every value
# but the reconstruction weight was measured at the code's weight 10:
MINI_VARIANT = replace(
    TrapReplaceConfig(),
    # 8 epochs of stage 1 at batch 64 (18 steps each) instead of 200 at 256; at the code's lr
    # 1e-3 stage 1 ends at CA_all 98.1 and stage 2 at 0.0 / 93.6, at 3e-3 at 99.2 and 0.0 / 97.5.
    trap_epochs=8,
    trap_batch_size=64,
    trap_adam=AdamConfig(lr=3e-3, weight_decay=5e-4),
    # No crop or flip in stage 1, as in the mini No-defense training (unpoison.train.MINI_AUGMENT):
    # with them the 3x3 corner trigger is not learned in 15 epochs (stage 1 ASR 8-16%).
    trap_augment=NO_AUGMENT,
    # Reconstruction weight 500 instead of the code's 10. Digits are easy to reconstruct, and at
    # the code's weight the stem learns the blend trigger as a class-0 feature: the fresh head,
    # trained only on clean digits, reads it as 0 and T&R leaves blend-kitty at ASR 100.
    # Measured on blend-kitty (ASR / CA_all after stage 2):
    #   weight    10: 100 / 97.8
    #   weight    50: 80.4 / 96.7
    #   weight   200: 12.8 / 95.0
    #   weight   300: 18.4 / 94.7
    #   weight   500: 6.2 / 95.8 (1.2 / 95.3 with 12 trap epochs)
    #   weight  1000: 0.0 / 93.3
    # At 500, badnets-grid ends at 0.0 / 95.0. Other knobs left blend-kitty at ASR 100: trap lr
    # 1e-3, 3 trap epochs, the stem split after block 4 or 6, and crop in stage 1.
    # Not robust across seeds: at weight 500, blend-kitty ends at 6.2 / 95.8 (seed 0),
    # 91.6 / 92.5 (seed 1), 73.5 / 91.9 (seed 2) and 1.9 / 92.8 (seed 3). With seed 1 it ends at
    # 70.7 / 91.9 at weight 700, and at 22.1 / 93.6 at 1000 with 12 trap epochs. Badnets-grid at
    # 500 with seed 1: 0.0 / 92.8.
    reconstruction_weight=500.0,
    # 30 epochs at batch 32 on the holdout (9 steps each); the code's lr 0.03 kept.
    replace_epochs=30,
    replace_batch_size=32,
    # Crop kept, flip off: digits are not mirror-symmetric, and a head trained on flipped digits
    # stays at CA_all 91.9 (0.0 ASR) where without flips it reaches 97.5; without the crop as well
    # the new head relearns part of the backdoor from the stem (ASR 17.8).
    replace_augment=Augment(crop_padding=4),
)
