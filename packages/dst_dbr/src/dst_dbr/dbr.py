"""D-BR: Decoupling-based Backdoor Removal (Chen, Wu & Wang, "Effective Backdoor Defense by
Exploiting Sensitivity of Poisoned Samples", NeurIPS 2022; official code:
SCLBD/Effective_backdoor_defense).

1. backdoored  the model to purify: ResNet-18 trained on the poisoned set with crop and flip
               (SGD 0.01, x0.1 at epochs 100 and 150, 200 epochs);
2. SD          the sample-distinguishment module (``dst_dbr.sd``) splits the poisoned set into
               suspected-clean, uncertain and suspected-poisoned parts;
3. br          20 epochs of one ascent pass on the suspected-poisoned part and one descent pass
               on the suspected-clean part (``dst_dbr.br``); the last epoch is the result.

The defense reads the poisoned images and labels only; ``y_true`` and ``is_poison`` are used for
logging and metrics. The result's metrics hold the defended model's (``ca_all``, ``ca_nontarget``,
``asr``), the backdoored model's before BR (``backdoored_`` prefix) and the SD split's quality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from unpoison.data.loader import DeviceLoader
from unpoison.data.split import PoisonedSplit, Split
from unpoison.logging import NullLogger, log_poison_examples
from unpoison.metrics import evaluator
from unpoison.train import StageProgress, make_sgd, run_stage, step_lr

from dst_dbr.br import unlearn_relearn
from dst_dbr.config import DBRConfig
from dst_dbr.sd import SD_STAGES, SampleDistinguishment, create_normalized

STAGES = ("backdoored", *SD_STAGES, "br")
METRIC_KEYS = ("ca_all", "ca_nontarget", "asr")  # unpoison.metrics.evaluate


@dataclass
class DBRResult:
    """What a D-BR run returns."""

    model: nn.Module  # the purified model (the backdoored one if the run stopped before BR)
    metrics: dict[str, float]
    flags: torch.Tensor | None  # the SD split's flag per image (None if stopped before it)
    stage_seconds: dict[str, float] = field(default_factory=dict)


def run(
    poisoned: PoisonedSplit,
    *,
    num_classes: int,
    config: DBRConfig | None = None,
    test: Split | None = None,
    backdoor_test: Split | None = None,
    target: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    logger: NullLogger | None = None,
    checkpoint_dir: str | Path | None = None,
    stop_after: str | None = None,
    progress: bool = True,
) -> DBRResult:
    """Train a backdoored model on ``poisoned``, then purify it with D-BR.

    With ``test``, ``backdoor_test`` and ``target`` every epoch is evaluated (CA_all,
    CA_nontarget, ASR). With ``checkpoint_dir`` the run saves after every epoch and a second call
    with the same directory continues where it stopped. ``stop_after`` (a name in ``STAGES``)
    ends the run after that stage.
    """
    config = config or DBRConfig()
    device = torch.device(device)
    logger = logger or NullLogger()
    stages = StageProgress(STAGES, stop_after, checkpoint_dir)

    torch.manual_seed(seed)
    backdoored = config.backdoored
    model = create_normalized(
        backdoored.model, backdoored.width, num_classes, config.normalization, device
    )
    torch.manual_seed(seed + 1)  # ours: the SD model's own initialisation
    sd = SampleDistinguishment(config.sd, config.normalization, num_classes, device)
    modules = {"model": model, "sd_model": sd.model}
    optimizers = {
        "backdoored": make_sgd(model.parameters(), backdoored.sgd),
        "sd": sd.optimizer,
        "br": make_sgd(model.parameters(), config.br.sgd),
    }
    before_br = torch.empty(0)  # the backdoored model's test metrics, kept for the result
    if (saved := stages.resume(device)) is not None:
        saved.restore(modules, optimizers)
        sd.resume(saved, stages)
        if stages.reached("sd-train"):
            before_br = saved.tensor("backdoored_metrics")

    def checkpoint(stage: str) -> Callable[[int], None]:
        return stages.saver(
            stage, modules, optimizers, lambda: {**sd.tensors(), "backdoored_metrics": before_br}
        )

    metrics = evaluator(model, test, backdoor_test, target)
    logger.text("dst_dbr/d-br/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(logger, poisoned, "dst_dbr/examples")

    if stages.pending("backdoored"):
        stages.start("backdoored")
        run_stage(
            stage="dst_dbr/backdoored",
            model=model,
            loader=DeviceLoader(
                poisoned.x,
                poisoned.y,
                backdoored.batch_size,
                shuffle=True,
                augment=backdoored.augment,
                seed=seed,
                device=device,
            ),
            optimizer=optimizers["backdoored"],
            lr_at=step_lr(backdoored.sgd.lr, backdoored.milestones),
            epochs=backdoored.epochs,
            start_epoch=stages.start_epoch("backdoored"),
            evaluate=metrics,
            on_epoch_end=checkpoint("backdoored"),
            logger=logger,
            progress=progress,
        )
    if not stages.reached("sd-train"):
        values = metrics()  # empty without a test set
        before_br = torch.tensor(
            [values[k] for k in METRIC_KEYS if k in values], dtype=torch.float64
        )

    split = sd.run(
        poisoned, stages=stages, checkpoint=checkpoint, seed=seed, logger=logger, progress=progress
    )

    if split is not None and stages.pending("br"):
        stages.start("br")
        data_device = poisoned.y.device
        suspected = poisoned.subset(split.part("poisoned").to(data_device))
        clean = poisoned.subset(split.part("clean").to(data_device))
        unlearn_relearn(
            model,
            optimizers["br"],
            (suspected.x, suspected.y),
            (clean.x, clean.y),
            config.br,
            seed=seed,
            start_epoch=stages.start_epoch("br"),
            on_epoch_end=checkpoint("br"),
            evaluate=metrics,
            logger=logger,
            progress=progress,
        )

    final = metrics()
    if before_br.numel():
        final.update(
            {f"backdoored_{k}": v for k, v in zip(METRIC_KEYS, before_br.tolist(), strict=True)}
        )
    if split is not None:
        final.update(split.quality(poisoned.is_poison))
    return DBRResult(
        model=model,
        metrics=final,
        flags=None if split is None else split.flags,
        stage_seconds=stages.seconds,
    )
