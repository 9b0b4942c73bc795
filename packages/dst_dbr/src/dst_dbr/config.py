"""D-ST's and D-BR's hyperparameters, each with where it comes from.

Sources: "code" = the official repository (SCLBD/Effective_backdoor_defense: the SD scripts
``train_attack_noTrans.py``, ``finetune_attack_noTrans.py``, ``calculate_consistency.py``,
``calculate_gamma.py``, ``separate_samples.py``; the ST scripts ``ST/train_extractor.py`` and
``ST/train_classifier.py``; the BR scripts ``train_attack_withTrans.py`` and
``unlearn_relearn.py``), "paper" = Chen, Wu & Wang, NeurIPS 2022. Defaults are the code's
CIFAR-10 settings; docs/methods/dst-dbr.md §4 lists them side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from unpoison.data import SimCLRAugment
from unpoison.data.augment import Augment
from unpoison.models.normalized import CIFAR10_NORMALIZATION, Normalization
from unpoison.train.optim import SGDConfig, check_milestones

# Per-channel (mean, std) the code normalises every image with, inside its training and test
# loops; our models take [0, 1] images, so the models carry it (unpoison.models.Normalized).
# CIFAR-10's is the core's (the CL attack's surrogate uses it too).
CIFAR100_NORMALIZATION: Normalization = (  # code, SD and BR scripts
    (0.50708, 0.48655, 0.44092),
    (0.26733, 0.25644, 0.27615),
)
CIFAR100_ST_NORMALIZATION: Normalization = (  # code, ST scripts (rounded differently)
    (0.5071, 0.4867, 0.4408),
    (0.2675, 0.2565, 0.2761),
)

# The code's training augmentation for CIFAR-10 (CIFAR-100 adds RandomRotation(15), not built).
CODE_AUGMENT = Augment(crop_padding=4, flip=True)

# The code's plain SGD (no Nesterov) with its weight decay; only the lr differs between stages.
CODE_MOMENTUM = 0.9


def _sgd(lr: float, weight_decay: float) -> SGDConfig:
    return SGDConfig(lr=lr, momentum=CODE_MOMENTUM, weight_decay=weight_decay, nesterov=False)


@dataclass(frozen=True)
class SDConfig:
    """The sample-distinguishment (SD) module of D-ST and D-BR (docs/methods/dst-dbr.md §3.2)."""

    model: str = "resnet18-cifar-maxpool"  # code: huyvnphan's ResNet-18, max-pool kept
    width: int = 64  # code: ResNet-18's first-stage width; the mini preset narrows it
    batch_size: int = 128  # code
    sgd: SGDConfig = field(default_factory=lambda: _sgd(0.01, 5e-4))  # code
    cosine_period: int = 100  # code: CosineAnnealingLR(T_max=100), stepped per epoch
    train_epochs: int = 2  # code/README: the no-augmentation model after epoch index 1
    finetune_epochs: int = 10  # code/README: the separation fine-tune after epoch index 9
    max_degrees: float = 180.0  # code: RandomRotation(180) for the FCT view
    max_translate: float = 0.2  # code: RandomAffine(translate=(0.2, 0.2)) after the rotation
    clean_ratio: float = 0.20  # code: alpha_c, the lowest-FCT share called clean
    poison_ratio: float = 0.05  # code: alpha_p, the highest-FCT share called poisoned
    # code: the split pass draws fresh rotations and shifts (True); False splits on the scores
    # the thresholds came from, so the parts are exactly alpha_c and alpha_p of the set.
    resample_split: bool = True

    def __post_init__(self) -> None:
        _positive_ints(self, "width", "batch_size", "cosine_period", "train_epochs")
        if self.finetune_epochs < 0:
            raise ValueError(f"finetune_epochs must be >= 0, got {self.finetune_epochs}")
        if not (0 < self.clean_ratio < 1 and 0 < self.poison_ratio < 1):
            raise ValueError(
                f"clean_ratio and poison_ratio must be in (0, 1), got {self.clean_ratio} and "
                f"{self.poison_ratio}"
            )
        if self.clean_ratio + self.poison_ratio > 1:
            raise ValueError("clean_ratio + poison_ratio must be at most 1")


Contrast = Literal["ctl", "s-ctl", "ss-ctl"]
CONTRASTS = ("ctl", "s-ctl", "ss-ctl")


@dataclass(frozen=True)
class STConfig:
    """The secure-training (ST) module of D-ST (docs/methods/dst-dbr.md §3.3)."""

    model: str = "resnet18-supcon"  # code: the SupContrast ResNet-18 (no max-pool) + MLP head
    width: int = 64  # code; the mini preset narrows it
    # The poster's extractor ablation: "ctl" = every sample its own class (SimCLR), "s-ctl" =
    # supervised by the (poisoned) labels (SupCon), "ss-ctl" = supervised for the SD module's
    # clean samples, instance-only for the others (D-ST).
    contrast: Contrast = "ss-ctl"
    augment: SimCLRAugment = field(default_factory=SimCLRAugment)  # code: SimCLR's, both parts
    temperature: float = 0.1  # code
    base_temperature: float = 0.07  # code: the loss is scaled by temperature / 0.07
    extractor_epochs: int = 200  # code
    extractor_batch_size: int = 512  # code
    extractor_sgd: SGDConfig = field(default_factory=lambda: _sgd(0.5, 1e-4))  # code
    cosine_floor: float = 0.1**3  # code: eta_min = lr * lr_decay_rate ** 3, lr_decay_rate 0.1
    warmup_epochs: int = 10  # code: warm-up is switched on because the batch is > 256
    warmup_from: float = 0.01  # code
    classifier_epochs: int = 10  # code/README: ckpt_epoch_9
    classifier_batch_size: int = 512  # code
    classifier_sgd: SGDConfig = field(default_factory=lambda: _sgd(5.0, 0.0))  # code
    # code: lr_decay_epochs 60, 75, 90 (x0.1 each, no cosine), never reached in its 10 epochs, so
    # the code's lr is a constant 5
    classifier_milestones: tuple[int, ...] = (60, 75, 90)
    poison_weight: float = 0.001  # code: lambda of the mixed cross-entropy

    def __post_init__(self) -> None:
        if self.contrast not in CONTRASTS:
            raise ValueError(f"contrast must be one of {CONTRASTS}, got {self.contrast!r}")
        _positive_ints(
            self,
            "width",
            "extractor_epochs",
            "extractor_batch_size",
            "classifier_epochs",
            "classifier_batch_size",
        )
        if not 0 <= self.warmup_epochs <= self.extractor_epochs:
            raise ValueError(
                f"warmup_epochs must be in [0, extractor_epochs], got {self.warmup_epochs}"
            )
        check_milestones("classifier_milestones", self.classifier_milestones)
        if self.temperature <= 0 or self.base_temperature <= 0:
            raise ValueError("temperature and base_temperature must be > 0")
        if self.poison_weight < 0:
            raise ValueError(f"poison_weight must be >= 0, got {self.poison_weight}")


@dataclass(frozen=True)
class BackdooredConfig:
    """The model D-BR purifies, trained on the poisoned set (docs/methods/dst-dbr.md §3.4)."""

    model: str = "resnet18-cifar-maxpool"  # code
    width: int = 64  # code; the mini preset narrows it
    epochs: int = 200  # code: the epoch-199 checkpoint
    batch_size: int = 128  # code
    sgd: SGDConfig = field(default_factory=lambda: _sgd(0.01, 5e-4))  # code (argument default)
    milestones: tuple[int, ...] = (100, 150)  # code: MultiStepLR, x0.1
    augment: Augment = CODE_AUGMENT  # code: RandomCrop(32, padding=4) + horizontal flip

    def __post_init__(self) -> None:
        _positive_ints(self, "width", "epochs", "batch_size")
        check_milestones("milestones", self.milestones)


@dataclass(frozen=True)
class BRConfig:
    """The backdoor-removal (BR) module of D-BR (docs/methods/dst-dbr.md §3.4)."""

    epochs: int = 20  # code
    batch_size: int = 128  # code
    sgd: SGDConfig = field(default_factory=lambda: _sgd(1e-4, 5e-4))  # code: lr forced each epoch
    augment: Augment = CODE_AUGMENT  # code: crop + flip on both passes

    def __post_init__(self) -> None:
        _positive_ints(self, "epochs", "batch_size")


@dataclass(frozen=True)
class DSTConfig:
    """Every setting of one D-ST run: SD, then ST."""

    sd: SDConfig = field(default_factory=SDConfig)
    st: STConfig = field(default_factory=STConfig)
    normalization: Normalization = CIFAR10_NORMALIZATION


@dataclass(frozen=True)
class DBRConfig:
    """Every setting of one D-BR run: the backdoored model, SD, then BR."""

    backdoored: BackdooredConfig = field(default_factory=BackdooredConfig)
    sd: SDConfig = field(default_factory=SDConfig)
    br: BRConfig = field(default_factory=BRConfig)
    normalization: Normalization = CIFAR10_NORMALIZATION


def _positive_ints(config: object, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


# The mini presets' rescaling for digits (1,437 training images, 35x fewer than CIFAR-10, on 2 CPU
# cores; each value measured on digits, seed 0; docs/methods/dst-dbr.md §6.3, the measurements:
# reproductions/dst_dbr/NOTES.md "D-ST / D-BR mini"). The algorithm is unchanged; the networks are
# narrower and every stage shorter, and where a stage sees 35x fewer steps its lr or batch was
# rescaled. Crop and flip are off where the code has them: digits are not mirror-symmetric, and
# with crops the 3x3 corner trigger is not learned in so few epochs (see unpoison.train's
# MINI_AUGMENT).
MINI_WIDTH = 16  # a quarter of ResNet-18's 64: about 1/16 of the compute
MINI_AUGMENT = Augment()
# Ours: FCT only separates the poisoned images once the SD model has learned the trigger; at the
# code's lr 0.01 for 2 epochs it does not (SD model ASR 0-12%). At batch 16, lr 0.05 it is learned
# around epoch 10; 14 epochs, because at 10 the split depended on float rounding (on one CPU the
# poisoned part held only clean 0s). The 5 fine-tune epochs raise FCT's AUC from 0.85 to 0.99.
MINI_SD = SDConfig(
    width=MINI_WIDTH, batch_size=16, sgd=_sgd(0.05, 5e-4), train_epochs=14, finetune_epochs=5
)
MINI_DST = DSTConfig(
    # Ours: D-ST's linear head learns only from the suspected-clean part, and on digits FCT differs
    # from digit to digit, so the lowest 20% holds few images of some digits (the head reached
    # CA_nontarget 71-83 on features a linear probe reads at 98.6); the lowest 50% holds at least
    # 14 of every digit. D-BR keeps the code's 20%: at 50% its relearning pass also relearns the
    # few poisoned images that get in. Both split the same FCT scores (dst_dbr.sd).
    sd=replace(MINI_SD, clean_ratio=0.5),
    st=STConfig(
        # Ours: the ST network with the SD network's stem max-pool: at width 16 the no-max-pool
        # network costs 3x more per epoch, and the extractor is the slowest stage.
        model="resnet18-supcon-maxpool",
        width=MINI_WIDTH,
        # Ours: crops down to 20% of an 8x8-pixel digit leave too little of it (final CA_all 71.7
        # with scale (0.2, 1), 81.4 with (0.5, 1)).
        augment=SimCLRAugment(flip=False, scale=(0.5, 1.0)),
        # Ours: after 8 epochs a linear probe on every clean image reads the features at 98.6;
        # 16 epochs gave the same.
        extractor_epochs=8,
        extractor_batch_size=64,  # 23 steps per epoch instead of 3 at the code's 512
        warmup_epochs=2,
        classifier_batch_size=32,  # about 25 steps per epoch instead of 1
        # Ours: at the code's constant lr 5 the head's last epoch is noisy (CA_nontarget 69-85),
        # and we never pick an epoch on the test set. 30 epochs with the code's own x0.1 drops at
        # 60/75/90% of the run: BadNets-all2one 0.0 / 95.6 (ASR / CA_nontarget).
        classifier_epochs=30,
        classifier_milestones=(18, 23, 27),
    ),
)
MINI_DBR = DBRConfig(
    backdoored=BackdooredConfig(
        width=MINI_WIDTH,
        epochs=10,  # the BadNets trigger is learned around epoch 7 (ASR 95 -> 99 by epoch 10)
        batch_size=64,
        sgd=_sgd(0.05, 5e-4),  # at the code's 0.01 ten epochs are too few
        milestones=(8,),
        augment=MINI_AUGMENT,
    ),
    sd=MINI_SD,
    # Ours: about 70 suspected-poisoned images: at the code's batch 128 and lr 1e-4, 20 epochs are
    # 20 ascent steps. Batch 32, lr 4e-4: Trojan ASR 0.0 at CA_nontarget 99.1 (from 100 / 100).
    br=BRConfig(batch_size=32, sgd=_sgd(4e-4, 5e-4), augment=MINI_AUGMENT),
)
