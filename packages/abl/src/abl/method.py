"""Anti-Backdoor Learning (Li et al., "Anti-Backdoor Learning: Training Clean Models on Poisoned
Data", NeurIPS 2021; official code: github.com/bboylyg/ABL).

The pipeline, as the official code runs it (docs/methods/abl.md §3-4):

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
from dataclasses import asdict

import torch
import torch.nn.functional as F
from torch import nn
from unpoison.data.augment import NO_AUGMENT, Augment
from unpoison.data.loader import Batch, DeviceLoader
from unpoison.data.split import PoisonedSplit, Split
from unpoison.defenses import MODEL, Defense, DefenseResult, Evaluation, RunOptions, TrainingData
from unpoison.defenses.options import shortcuts
from unpoison.logging import NullLogger, log_poison_examples
from unpoison.metrics import separation
from unpoison.models import create_model
from unpoison.train import constant_lr, make_sgd, recalibrated_copy, step_lr

from abl.config import MINI_VARIANT, PAPER_VARIANT, AblConfig

STAGES = ("isolation", "scoring", "finetune", "unlearning")
SCORING_BATCH = 512  # our choice: eval-mode scoring in large batches (no effect on the scores)


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
    data: TrainingData, config: AblConfig, evaluation: Evaluation, options: RunOptions
) -> DefenseResult:
    """Train a model on the poisoned split with ABL and return it, with the isolation quality
    (against the true flags: metrics only) and the positions it isolated."""
    poisoned, seed, device = data.poisoned, options.seed, options.torch_device
    stages = options.stages(STAGES, prefix="abl")
    logger = options.logger
    torch.manual_seed(seed)
    model = create_model(config.model, num_classes=data.num_classes).to(device)
    optimizers = {
        "isolation": make_sgd(model.parameters(), config.isolation_sgd),
        "tune": make_sgd(model.parameters(), config.finetune_sgd),
    }
    isolated = torch.empty(0, dtype=torch.int64)
    saved = stages.track(
        {"model": model},
        optimizers,
        lambda: {"isolated": isolated} if isolated.numel() else {},
        device,
    )
    if saved is not None and stages.reached("scoring"):
        isolated = saved.tensor("isolated").cpu()
    metrics = evaluation.of(model)
    logger.text("abl/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(logger, poisoned, "abl/examples")

    def loader(split: Split, augment: Augment = NO_AUGMENT, shuffle: bool = True) -> DeviceLoader:
        return DeviceLoader.from_split(
            split, config.batch_size, shuffle=shuffle, augment=augment, seed=seed, device=device
        )

    # A. Isolation: no augmentation, no shuffling (official code).
    if stage := stages.start("isolation", config.isolation_epochs):
        stage.train(
            model=model,
            loader=loader(poisoned, shuffle=False),
            optimizer=optimizers["isolation"],
            lr_at=constant_lr(config.isolation_sgd.lr),
            loss_fn=isolation_loss(config.isolation_loss, config.gamma),
            evaluate=metrics,
        )

    # Scoring: the lowest-loss examples are the suspected backdoor examples.
    if stage := stages.start("scoring"):
        scorer = model
        if config.scoring_recalibrates_bn:
            scorer = recalibrated_copy(model, DeviceLoader.from_split(poisoned, SCORING_BATCH))
        losses = per_sample_losses(scorer, poisoned, device)
        isolated = isolate(losses, config.isolation_ratio).cpu()
        _log_isolation(logger, losses, poisoned, isolated)
        stage.done()

    if isolated.numel():
        # The mask lives with the split (a GPU split cannot be indexed by a CPU mask).
        is_isolated = torch.zeros(len(poisoned), dtype=torch.bool, device=poisoned.y.device)
        is_isolated[isolated.to(is_isolated.device)] = True
        rest, suspects = poisoned.subset(~is_isolated), poisoned.subset(is_isolated)

    # B. Fine-tuning on the rest, or the paper's joint global gradient ascent.
    if stage := stages.start("finetune", config.finetune_epochs):
        tune = {"loader": loader(rest, config.finetune_augment)}
        if config.unlearning_mode == "joint":
            tune["loader"] = JointLoader(tune["loader"], loader(suspects, config.finetune_augment))
            tune["loss_fn"] = global_gradient_ascent(is_isolated.to(device))
        stage.train(
            model=model,
            optimizer=optimizers["tune"],
            lr_at=step_lr(config.finetune_sgd.lr, config.finetune_milestones),
            evaluate=metrics,
            **tune,
        )

    # C. Unlearning: pure gradient ascent on the isolated set (official code).
    if stage := stages.start("unlearning", config.unlearning_epochs):
        stage.train(
            model=model,
            loader=loader(suspects, config.unlearning_augment),
            optimizer=optimizers["tune"],
            lr_at=constant_lr(config.unlearning_lr),
            loss_fn=negative_cross_entropy,
            evaluate=metrics,
        )

    groups = {MODEL: metrics()}
    if isolated.numel():
        groups["isolation"] = separation(isolated, poisoned.is_poison)
    return DefenseResult(model, groups, stages.seconds, tensors={"isolated": isolated})


def _log_isolation(
    logger: NullLogger, losses: torch.Tensor, poisoned: PoisonedSplit, isolated: torch.Tensor
) -> None:
    """Per-sample loss histograms split by the true poison flag, and isolation precision/recall."""
    flags = poisoned.is_poison.to(losses.device)
    logger.histogram("abl/isolation_loss/poisoned", losses[flags], 0)
    logger.histogram("abl/isolation_loss/clean", losses[~flags], 0)
    logger.scalars(separation(isolated, poisoned.is_poison), 0, prefix="abl/isolation")


TITLE = "Anti-Backdoor Learning (Li et al., NeurIPS 2021)"
SUMMARY = (
    "Isolates the 1% of examples with the lowest loss early in training, fine-tunes on the rest "
    "and unlearns the isolated ones by gradient ascent."
)
VARIANTS = {"code": AblConfig(), "paper": PAPER_VARIANT, "mini": MINI_VARIANT}
OPTIONS = shortcuts("isolation_epochs", "finetune_epochs", "unlearning_epochs", "batch_size")
DEFENSE = Defense("abl", TITLE, SUMMARY, VARIANTS, STAGES, run, options=OPTIONS)
