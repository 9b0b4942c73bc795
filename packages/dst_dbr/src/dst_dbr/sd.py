"""The sample-distinguishment (SD) module that D-ST and D-BR share (docs/methods/dst-dbr.md §3.2).

1. sd-train     a fresh model on the poisoned set without augmentation (SGD 0.01, cosine with
                T_max 100 stepped per epoch; 2 epochs);
2. sd-finetune  10 more epochs on the class-centre separation loss of its penultimate features,
                the cosine schedule continued;
3. sd-split     the FCT score of every image, the thresholds at its 20% and 95% quantiles, and the
                three parts: clean (D_c), uncertain (D_u) and poisoned (D_p).

The code's fine-tune runs the model twice on every batch in train mode, so BatchNorm's running
statistics take the same batch twice: r <- 0.9 (0.9 r + 0.1 m) + 0.1 m = 0.81 r + 0.19 m. We run
it once with momentum 0.19, the same update at half the cost. As in the code, the split pass
draws fresh rotations and shifts (``SDConfig.resample_split``), so the parts are only about 20%
and 5% of the set.

The code runs the SD module once and hands its split to both ST and BR. Here each method runs it,
and within one process a second run on the same data with the same SD model settings and seed
(which would train the same SD model) takes the first one's FCT scores instead of training the SD
model again; only the thresholds are its own, so D-ST and D-BR may split at different ratios.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch
from torch import nn
from unpoison.data import RotateTranslate
from unpoison.data.loader import DeviceLoader, epoch_seed
from unpoison.data.split import PoisonedSplit
from unpoison.logging import NullLogger
from unpoison.metrics import separation
from unpoison.models import Normalized, create_model
from unpoison.train import LossMeter, Stages, cosine_lr, make_sgd, set_lr
from unpoison.train.checkpoint import Checkpoint

from dst_dbr.centre_separation import centre_separation_loss
from dst_dbr.config import Normalization, SDConfig
from dst_dbr.fct import PARTS, fct_scores, split_flags, thresholds

SD_STAGES = ("sd-train", "sd-finetune", "sd-split")
TORCH_BN_MOMENTUM = 0.1
TWO_PASS_BN_MOMENTUM = 1 - (1 - TORCH_BN_MOMENTUM) ** 2  # 0.19, see the module docstring
# The FCT scores made in this process, by scores_key: those the thresholds come from and those the
# parts are cut from (the same tensor without resample_split).
_SCORES: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
# SDConfig fields that only place the thresholds, so the scores do not depend on them
_THRESHOLD_FIELDS = ("clean_ratio", "poison_ratio")


@dataclass(frozen=True)
class SampleSplit:
    """The SD module's verdict on every image of the poisoned split."""

    flags: torch.Tensor  # int64 [N]: fct.CLEAN, fct.UNCERTAIN or fct.POISONED
    scores: torch.Tensor  # float [N]: the FCT scores the split was made on
    clean_threshold: float  # gamma_c
    poison_threshold: float  # gamma_p

    def part(self, name: str) -> torch.Tensor:
        """The boolean mask of part ``name`` ("clean", "uncertain" or "poisoned")."""
        return self.flags == PARTS[name]

    def tensors(self) -> dict[str, torch.Tensor]:
        """The split as checkpoint tensors (``from_tensors`` reads them back)."""
        gammas = torch.tensor([self.clean_threshold, self.poison_threshold], dtype=torch.float64)
        return {"sd_flags": self.flags, "sd_scores": self.scores, "sd_thresholds": gammas}

    @classmethod
    def from_tensors(cls, saved: Checkpoint) -> SampleSplit:
        clean_threshold, poison_threshold = saved.tensor("sd_thresholds").tolist()
        return cls(
            saved.tensor("sd_flags"), saved.tensor("sd_scores"), clean_threshold, poison_threshold
        )

    def quality(self, is_poison: torch.Tensor) -> dict[str, float]:
        """Sizes of the parts and, against the true poison flags (metrics only), the precision
        and recall of the clean part for clean images and of the poisoned part for poisoned."""
        is_poison = is_poison.to(self.flags.device)
        clean = separation(self.part("clean"), ~is_poison)
        poisoned = separation(self.part("poisoned"), is_poison)
        return {
            **{f"{name}_size": float(self.part(name).sum()) for name in PARTS},
            "clean_precision": 100 * clean["precision"],
            "clean_recall": 100 * clean["recall"],
            "poisoned_precision": 100 * poisoned["precision"],
            "poisoned_recall": 100 * poisoned["recall"],
        }


def create_normalized(
    name: str, width: int, num_classes: int, normalization: Normalization, device: torch.device
) -> Normalized:
    """Registered model ``name`` at ``width``, taking [0, 1] images normalised as the code does."""
    mean, std = normalization
    return Normalized(create_model(name, num_classes=num_classes, width=width), mean, std).to(
        device
    )


class SampleDistinguishment:
    """The SD module of one run: its model and optimizer (checkpointed by the method) and, once
    the sd-split stage has run, its ``split``."""

    def __init__(
        self,
        config: SDConfig,
        normalization: Normalization,
        num_classes: int,
        device: torch.device,
    ) -> None:
        self.config = config
        self.num_classes = num_classes
        self.model = create_normalized(
            config.model, config.width, num_classes, normalization, device
        )
        self.optimizer = make_sgd(self.model.parameters(), config.sgd)
        self.split: SampleSplit | None = None
        self.normalization = normalization

    def scores_key(self, poisoned: PoisonedSplit, seed: int) -> str:
        """A digest of everything the FCT scores depend on: the SD model's settings (not the
        threshold ratios), the seed and the poisoned data."""
        settings = {k: v for k, v in asdict(self.config).items() if k not in _THRESHOLD_FIELDS}
        digest = hashlib.sha256(
            repr((settings, self.normalization, self.num_classes, seed)).encode()
        )
        digest.update(poisoned.x.cpu().numpy().tobytes())
        digest.update(poisoned.y.cpu().numpy().tobytes())
        return digest.hexdigest()

    def resume(self, saved: Checkpoint | None, stages: Stages) -> None:
        """Take the split back from ``saved`` when the run had made it."""
        if saved is not None and stages.reached("sd-split"):
            self.split = SampleSplit.from_tensors(saved)

    def tensors(self) -> dict[str, torch.Tensor]:
        """What a checkpoint keeps of the module besides its model and optimizer."""
        return self.split.tensors() if self.split is not None else {}

    def run(self, poisoned: PoisonedSplit, stages: Stages, seed: int) -> SampleSplit | None:
        """Run the SD stages still pending; returns the split (None when stopped before it)."""
        key, logger = self.scores_key(poisoned, seed), stages.logger
        if key in _SCORES and (stage := stages.start("sd-split")):
            self.split = self._split(*_SCORES[key])
            logger.text("dst_dbr/sd/reused", "the FCT scores of an identical earlier SD model")
            _log_split(logger, self.split, poisoned)
            stage.done()
            return self.split
        config, model = self.config, self.model
        device = next(model.parameters()).device
        loader = DeviceLoader(
            poisoned.x, poisoned.y, config.batch_size, shuffle=True, seed=seed, device=device
        )
        lr_at = cosine_lr(config.sgd.lr, config.cosine_period)

        if stage := stages.start("sd-train", config.train_epochs):
            stage.train(model=model, loader=loader, optimizer=self.optimizer, lr_at=lr_at)

        if stage := stages.start("sd-finetune", config.finetune_epochs):

            def finetune_epoch(epoch: int) -> dict[str, float]:
                schedule_epoch = config.train_epochs + epoch  # the code's scheduler continues
                set_lr(self.optimizer, lr_at(schedule_epoch))
                model.train()
                meter = LossMeter(device)
                with _bn_momentum(model, TWO_PASS_BN_MOMENTUM):
                    for x, y, _ in loader.epoch(schedule_epoch):
                        loss = centre_separation_loss(
                            model.forward_features(x), y, self.num_classes
                        )
                        self.optimizer.zero_grad(set_to_none=True)
                        loss.backward()
                        self.optimizer.step()
                        meter.add(loss)
                return {"loss": meter.mean(stage.tag, epoch), "lr": lr_at(schedule_epoch)}

            stage.loop(finetune_epoch)

        if stage := stages.start("sd-split"):
            _SCORES[key] = self._fct_scores(poisoned, seed)
            self.split = self._split(*_SCORES[key])
            _log_split(logger, self.split, poisoned)
            stage.done()
        return self.split

    def _fct_scores(self, poisoned: PoisonedSplit, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The FCT scores the thresholds come from, and those the parts are cut from."""
        config = self.config
        view = RotateTranslate(config.max_degrees, config.max_translate)
        images = poisoned.x
        generator = torch.Generator(device=images.device)
        generator.manual_seed(epoch_seed(seed, 0))
        scores = fct_scores(self.model, images, view, generator)
        if config.resample_split:  # code: separate_samples.py scores again with new draws
            return scores, fct_scores(self.model, images, view, generator)
        return scores, scores

    def _split(self, threshold_scores: torch.Tensor, scores: torch.Tensor) -> SampleSplit:
        config = self.config
        clean_threshold, poison_threshold = thresholds(
            threshold_scores, config.clean_ratio, config.poison_ratio
        )
        flags = split_flags(scores, clean_threshold, poison_threshold)
        return SampleSplit(flags.cpu(), scores.cpu(), clean_threshold, poison_threshold)


@contextmanager
def _bn_momentum(model: nn.Module, momentum: float) -> Iterator[None]:
    """Every BatchNorm of ``model`` at ``momentum`` inside the block, restored after it."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    before = [m.momentum for m in norms]
    for m in norms:
        m.momentum = momentum
    try:
        yield
    finally:
        for m, value in zip(norms, before, strict=True):
            m.momentum = value


def _log_split(logger: NullLogger, split: SampleSplit, poisoned: PoisonedSplit) -> None:
    """FCT histograms by the true poison flag, and each part's size, precision and recall."""
    flags = poisoned.is_poison.cpu()
    logger.histogram("dst_dbr/sd/fct/poisoned", split.scores[flags], 0)
    logger.histogram("dst_dbr/sd/fct/clean", split.scores[~flags], 0)
    logger.scalars(split.quality(flags), 0, prefix="dst_dbr/sd/split")
    logger.scalars(
        {"clean": split.clean_threshold, "poisoned": split.poison_threshold},
        0,
        prefix="dst_dbr/sd/threshold",
    )
