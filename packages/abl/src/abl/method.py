"""Anti-Backdoor Learning (Li et al., "Anti-Backdoor Learning: Training Clean Models on Poisoned
Data", NeurIPS 2021; official code: github.com/bboylyg/ABL).

The pipeline, as the official code runs it (spec: methods.md 1.1-1.3):

A. isolation  train a fresh model with the batch-level LGA/flooding loss, no augmentation, no
              shuffling, at lr 0.1 (backdoor examples are learned fastest, so their loss drops
              below gamma first);
   scoring    per-sample cross-entropy in eval mode over the poisoned split (full batches) and
              isolate the lowest ``isolation_ratio``;
B. finetune   keep training the same model on the rest with crop, flip and Cutout;
C. unlearning gradient ascent on the isolated set at lr 5e-4 with the fine-tune optimizer (its
              momentum carries over).

Deliberate differences from the official code:
- per-sample scores come from full eval-mode batches instead of a batch-size-1 pass (same numbers);
- the selection of poisoned samples is seeded (the code's ``--seed`` is never used);
- the code's pipeline bugs (file names, np.save of tuples, ``.view`` on non-contiguous tensors) do
  not exist here; the stages run in one process and resume from checkpoints;
- an option the code lacks, ``scoring_recalibrates_bn``: recompute BatchNorm statistics over the
  split before scoring (off by default; on in ``MINI_VARIANT``, where epochs are 23 steps).
``config.PAPER_VARIANT`` runs the paper's description instead: 20 isolation epochs, the LGA sign
inside the per-sample expectation, and global gradient ascent (descent on the rest and ascent on
the isolated set in the same step) in place of separate fine-tuning and unlearning.

The defense reads only the poisoned images, their labels and their positions; ``y_true`` and
``is_poison`` are used for logging and metrics only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from unpoison.data.loader import Batch, DeviceLoader
from unpoison.data.split import PoisonedSplit, Split
from unpoison.logging import NullLogger, log_poison_examples
from unpoison.metrics import evaluator, separation
from unpoison.models import create_model
from unpoison.train import (
    StageProgress,
    constant_lr,
    make_sgd,
    recalibrated_copy,
    run_stage,
    step_lr,
)

from abl.config import AblConfig

STAGES = ("isolation", "scoring", "finetune", "unlearning")
SCORING_BATCH = 512  # our choice: eval-mode scoring in large batches (no effect on the scores)


@dataclass
class AblResult:
    """What an ABL run returns."""

    model: nn.Module
    isolated: torch.Tensor  # positions (into the poisoned split) of the isolated examples
    metrics: dict[str, float]  # final test metrics (empty without a test set) + isolation quality
    stage_seconds: dict[str, float] = field(default_factory=dict)


# --- losses -------------------------------------------------------------------------------------


def isolation_loss(kind: str, gamma: float) -> Callable[..., torch.Tensor]:
    """The stage-A loss. "flooding" and "lga" share the gradient sign(mean CE - gamma) * grad."""

    def flooding(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        mean = F.cross_entropy(logits, y)
        return (mean - gamma).abs() + gamma

    def lga(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        mean = F.cross_entropy(logits, y)
        return torch.sign(mean - gamma) * mean

    def lga_per_sample(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        losses = F.cross_entropy(logits, y, reduction="none")
        return (torch.sign(losses - gamma) * losses).mean()

    return {"flooding": flooding, "lga": lga, "lga-per-sample": lga_per_sample}[kind]


def negative_cross_entropy(
    logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor
) -> torch.Tensor:
    """Gradient ascent on the isolated set (stage C)."""
    return -F.cross_entropy(logits, y)


def global_gradient_ascent(is_isolated: torch.Tensor) -> Callable[..., torch.Tensor]:
    """The paper's L_GGA: mean CE over the rest minus mean CE over the isolated rows of a batch."""

    def loss(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        losses = F.cross_entropy(logits, y, reduction="none")
        isolated = is_isolated[index]
        return losses[~isolated].mean() - losses[isolated].mean()

    return loss


class JointLoader:
    """Each batch of ``rest`` followed by the next batch of ``isolated`` (cycled), for L_GGA."""

    def __init__(self, rest: DeviceLoader, isolated: DeviceLoader) -> None:
        self.rest, self.isolated, self.device = rest, isolated, rest.device

    def epoch(self, e: int) -> Iterator[Batch]:
        isolated_batches = self._cycle(e)
        for x, y, index in self.rest.epoch(e):
            xi, yi, ii = next(isolated_batches)
            yield torch.cat([x, xi]), torch.cat([y, yi]), torch.cat([index, ii])

    def _cycle(self, e: int) -> Iterator[Batch]:
        repeat = 0
        while True:
            yield from self.isolated.epoch(e * 1_000 + repeat)
            repeat += 1


# --- scoring ------------------------------------------------------------------------------------


@torch.no_grad()
def per_sample_losses(model: nn.Module, split: Split, device: torch.device) -> torch.Tensor:
    """Cross-entropy of every example against its (poisoned) label, in eval mode, full batches."""
    model.eval()
    loader = DeviceLoader(split.x, split.y, SCORING_BATCH, device=device)
    return torch.cat([F.cross_entropy(model(x), y, reduction="none") for x, y, _ in loader])


def isolate(losses: torch.Tensor, ratio: float) -> torch.Tensor:
    """Positions of the ``int(ratio * N)`` lowest losses (at least one), lowest first."""
    count = max(int(ratio * losses.numel()), 1)
    return torch.argsort(losses, stable=True)[:count]


# --- the pipeline -------------------------------------------------------------------------------


def run(
    poisoned: PoisonedSplit,
    *,
    num_classes: int,
    config: AblConfig | None = None,
    test: Split | None = None,
    backdoor_test: Split | None = None,
    target: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    logger: NullLogger | None = None,
    checkpoint_dir: str | Path | None = None,
    stop_after: str | None = None,
    progress: bool = True,
) -> AblResult:
    """Train a model on ``poisoned`` with ABL and return it.

    With ``test``, ``backdoor_test`` and ``target`` every epoch is evaluated (CA_all,
    CA_nontarget, ASR) and the final metrics are returned. With ``checkpoint_dir`` the run saves
    after every epoch and a second call with the same directory continues where it stopped.
    ``stop_after`` (a stage name) ends the run after that stage, for staged or resumed runs.
    """
    stages = StageProgress(STAGES, stop_after, checkpoint_dir)
    config = config or AblConfig()
    device = torch.device(device)
    logger = logger or NullLogger()

    torch.manual_seed(seed)
    model = create_model(config.model, num_classes=num_classes).to(device)
    isolation_optimizer = make_sgd(model.parameters(), config.isolation_sgd)
    tune_optimizer = make_sgd(model.parameters(), config.finetune_sgd)
    isolated = torch.empty(0, dtype=torch.int64)

    if (saved := stages.resume(device)) is not None:
        optimizer = isolation_optimizer if saved.stage == "isolation" else tune_optimizer
        saved.restore({"model": model}, {"optimizer": optimizer})
        if stages.reached("scoring"):
            isolated = saved.tensor("isolated").cpu()

    def checkpoint(stage: str, optimizer: torch.optim.Optimizer) -> Callable[[int], None]:
        return stages.saver(
            stage,
            {"model": model},
            {"optimizer": optimizer},
            lambda: {"isolated": isolated} if isolated.numel() else {},
        )

    metrics = evaluator(model, test, backdoor_test, target)

    logger.text("abl/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(logger, poisoned, "abl/examples")

    # A. Isolation: no augmentation, no shuffling (official code).
    if stages.pending("isolation"):
        stages.start("isolation")
        run_stage(
            stage="abl/isolation",
            model=model,
            loader=DeviceLoader.from_split(poisoned, config.batch_size, seed=seed, device=device),
            optimizer=isolation_optimizer,
            lr_at=constant_lr(config.isolation_sgd.lr),
            epochs=config.isolation_epochs,
            loss_fn=isolation_loss(config.isolation_loss, config.gamma),
            start_epoch=stages.start_epoch("isolation"),
            evaluate=metrics,
            on_epoch_end=checkpoint("isolation", isolation_optimizer),
            logger=logger,
            progress=progress,
        )

    # Scoring: the lowest-loss examples are the suspected backdoor examples.
    if stages.pending("scoring") and not stages.reached("scoring"):
        stages.start("scoring")
        scorer = model
        if config.scoring_recalibrates_bn:
            scorer = recalibrated_copy(model, DeviceLoader.from_split(poisoned, SCORING_BATCH))
        losses = per_sample_losses(scorer, poisoned, device)
        isolated = isolate(losses, config.isolation_ratio).cpu()
        _log_isolation(logger, losses, poisoned, isolated)
        checkpoint("scoring", tune_optimizer)(1)

    if isolated.numel():
        # The mask lives with the split (a GPU split cannot be indexed by a CPU mask).
        is_isolated = torch.zeros(len(poisoned), dtype=torch.bool, device=poisoned.y.device)
        is_isolated[isolated.to(is_isolated.device)] = True
        rest = poisoned.subset(~is_isolated)
        suspects = poisoned.subset(is_isolated)

    # B. Fine-tuning on the rest, or the paper's joint global gradient ascent.
    if stages.pending("finetune") and config.finetune_epochs > 0:
        stages.start("finetune")
        rest_loader = DeviceLoader.from_split(
            rest,
            config.batch_size,
            shuffle=True,
            augment=config.finetune_augment,
            seed=seed,
            device=device,
        )
        loader, loss_fn = rest_loader, None
        if config.unlearning_mode == "joint":
            suspects_loader = DeviceLoader.from_split(
                suspects,
                config.batch_size,
                shuffle=True,
                augment=config.finetune_augment,
                seed=seed,
                device=device,
            )
            loader = JointLoader(rest_loader, suspects_loader)
            loss_fn = global_gradient_ascent(is_isolated.to(device))
        run_stage(
            stage="abl/finetune",
            model=model,
            loader=loader,
            optimizer=tune_optimizer,
            lr_at=step_lr(config.finetune_sgd.lr, config.finetune_milestones),
            epochs=config.finetune_epochs,
            **({"loss_fn": loss_fn} if loss_fn is not None else {}),
            start_epoch=stages.start_epoch("finetune"),
            evaluate=metrics,
            on_epoch_end=checkpoint("finetune", tune_optimizer),
            logger=logger,
            progress=progress,
        )

    # C. Unlearning: pure gradient ascent on the isolated set (official code).
    if stages.pending("unlearning") and config.unlearning_epochs > 0:
        stages.start("unlearning")
        run_stage(
            stage="abl/unlearning",
            model=model,
            loader=DeviceLoader.from_split(
                suspects,
                config.batch_size,
                shuffle=True,
                augment=config.unlearning_augment,
                seed=seed,
                device=device,
            ),
            optimizer=tune_optimizer,
            lr_at=constant_lr(config.unlearning_lr),
            epochs=config.unlearning_epochs,
            loss_fn=negative_cross_entropy,
            start_epoch=stages.start_epoch("unlearning"),
            evaluate=metrics,
            on_epoch_end=checkpoint("unlearning", tune_optimizer),
            logger=logger,
            progress=progress,
        )

    final = metrics()
    if isolated.numel():
        final.update(
            {f"isolation_{k}": v for k, v in separation(isolated, poisoned.is_poison).items()}
        )
    return AblResult(model=model, isolated=isolated, metrics=final, stage_seconds=stages.seconds)


def _log_isolation(
    logger: NullLogger, losses: torch.Tensor, poisoned: PoisonedSplit, isolated: torch.Tensor
) -> None:
    """Per-sample loss histograms split by the true poison flag, and isolation precision/recall."""
    flags = poisoned.is_poison.to(losses.device)
    logger.histogram("abl/isolation_loss/poisoned", losses[flags], 0)
    logger.histogram("abl/isolation_loss/clean", losses[~flags], 0)
    logger.scalars(separation(isolated, poisoned.is_poison), 0, prefix="abl/isolation")
