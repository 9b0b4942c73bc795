"""D-ST: Decoupling-based Secure Training (Chen, Wu & Wang, "Effective Backdoor Defense by
Exploiting Sensitivity of Poisoned Samples", NeurIPS 2022; official code:
SCLBD/Effective_backdoor_defense).

1. SD          the sample-distinguishment module (``dst_dbr.sd``) splits the poisoned set into
               suspected-clean, uncertain and suspected-poisoned parts;
2. extractor   a SupCon ResNet-18 learns features from every image with the semi-supervised
               contrastive loss (``dst_dbr.st``);
3. classifier  a linear layer on the frozen features learns the clean part and unlearns the
               poisoned one (the mixed cross-entropy); the last epoch is the result.

The defense reads the poisoned images and labels only; ``y_true`` and ``is_poison`` are used for
logging and metrics. The code keeps the classifier epoch with the best test accuracy; we never
select on the test set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from unpoison.data.split import PoisonedSplit, Split
from unpoison.logging import NullLogger, log_poison_examples
from unpoison.metrics import evaluator
from unpoison.train import StageProgress, make_sgd

from dst_dbr.config import DSTConfig
from dst_dbr.sd import SD_STAGES, SampleDistinguishment, create_normalized
from dst_dbr.st import train_classifier, train_extractor

STAGES = (*SD_STAGES, "extractor", "classifier")


@dataclass
class DSTResult:
    """What a D-ST run returns."""

    model: nn.Module  # encoder + linear classifier (untrained parts if the run stopped early)
    metrics: dict[str, float]
    flags: torch.Tensor | None  # the SD split's flag per image (None if stopped before it)
    stage_seconds: dict[str, float] = field(default_factory=dict)


def run(
    poisoned: PoisonedSplit,
    *,
    num_classes: int,
    config: DSTConfig | None = None,
    test: Split | None = None,
    backdoor_test: Split | None = None,
    target: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    logger: NullLogger | None = None,
    checkpoint_dir: str | Path | None = None,
    stop_after: str | None = None,
    progress: bool = True,
) -> DSTResult:
    """Train a model on ``poisoned`` with D-ST.

    With ``test``, ``backdoor_test`` and ``target`` every classifier epoch is evaluated (CA_all,
    CA_nontarget, ASR). With ``checkpoint_dir`` the run saves after every epoch and a second call
    with the same directory continues where it stopped. ``stop_after`` (a name in ``STAGES``)
    ends the run after that stage.
    """
    config = config or DSTConfig()
    st = config.st
    device = torch.device(device)
    logger = logger or NullLogger()
    stages = StageProgress(STAGES, stop_after, checkpoint_dir)

    torch.manual_seed(seed + 1)  # the SD model's initialisation, as in D-BR
    sd = SampleDistinguishment(config.sd, config.normalization, num_classes, device)
    torch.manual_seed(seed)
    model = create_normalized(st.model, st.width, num_classes, config.normalization, device)
    encoder = [p for name, p in model.backbone.named_parameters() if not name.startswith("fc.")]
    modules = {"model": model, "sd_model": sd.model}
    optimizers = {
        "sd": sd.optimizer,
        "extractor": make_sgd(encoder, st.extractor_sgd),
        "classifier": make_sgd(model.fc.parameters(), st.classifier_sgd),
    }
    if (saved := stages.resume(device)) is not None:
        saved.restore(modules, optimizers)
        sd.resume(saved, stages)

    def checkpoint(stage: str) -> Callable[[int], None]:
        return stages.saver(stage, modules, optimizers, sd.tensors)

    metrics = evaluator(model, test, backdoor_test, target)
    logger.text("dst_dbr/d-st/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(logger, poisoned, "dst_dbr/examples")

    split = sd.run(
        poisoned, stages=stages, checkpoint=checkpoint, seed=seed, logger=logger, progress=progress
    )
    final: dict[str, float] = {}
    if split is not None:
        flags = split.flags.to(poisoned.y.device)
        if stages.pending("extractor"):
            stages.start("extractor")
            train_extractor(
                model,
                optimizers["extractor"],
                poisoned.x,
                poisoned.y,
                flags,
                st,
                seed=seed,
                start_epoch=stages.start_epoch("extractor"),
                on_epoch_end=checkpoint("extractor"),
                logger=logger,
                progress=progress,
            )
        if stages.pending("classifier"):
            stages.start("classifier")
            train_classifier(
                model,
                optimizers["classifier"],
                poisoned.x,
                poisoned.y,
                flags,
                st,
                seed=seed,
                start_epoch=stages.start_epoch("classifier"),
                on_epoch_end=checkpoint("classifier"),
                evaluate=metrics,
                logger=logger,
                progress=progress,
            )
            final.update(metrics())
        final.update(split.quality(poisoned.is_poison))
    return DSTResult(
        model=model,
        metrics=final,
        flags=None if split is None else split.flags,
        stage_seconds=stages.seconds,
    )
