"""D-BR: backdoor removal from a backdoored model (Chen, Wu & Wang, "Effective Backdoor Defense by
Exploiting Sensitivity of Poisoned Samples", NeurIPS 2022; official code:
SCLBD/Effective_backdoor_defense).

1. backdoored  the model to purify: ResNet-18 trained on the poisoned set with crop and flip
               (SGD 0.01, x0.1 at epochs 100 and 150, 200 epochs);
2. SD          the sample-distinguishment module (``dst_dbr.sd``) splits the poisoned set into
               suspected-clean, uncertain and suspected-poisoned parts;
3. br          20 epochs of one ascent pass on the suspected-poisoned part and one descent pass
               on the suspected-clean part (``dst_dbr.br``); the last epoch is the result.

The defense reads the poisoned images and labels only; ``y_true`` and ``is_poison`` are used for
logging and metrics. The result's metrics hold the defended model's (group "model": ``ca_all``,
``ca_nontarget``, ``asr``), the backdoored model's before BR ("backdoored") and the SD split's
quality ("sd").
"""

from __future__ import annotations

from dataclasses import asdict

import torch
from unpoison.data.loader import DeviceLoader
from unpoison.defenses import MODEL, Defense, DefenseResult, Evaluation, RunOptions, TrainingData
from unpoison.logging import log_poison_examples
from unpoison.train import make_sgd, step_lr

from dst_dbr.br import unlearn_relearn
from dst_dbr.config import MINI_DBR, DBRConfig
from dst_dbr.options import DBR_OPTIONS as OPTIONS
from dst_dbr.sd import SD_STAGES, SampleDistinguishment, create_normalized

STAGES = ("backdoored", *SD_STAGES, "br")
METRIC_KEYS = ("ca_all", "ca_nontarget", "asr")  # unpoison.metrics.evaluate


def run(
    data: TrainingData, config: DBRConfig, evaluation: Evaluation, options: RunOptions
) -> DefenseResult:
    """Train a backdoored model on the poisoned split, then purify it with D-BR. The result holds
    the backdoored model's metrics before BR ("backdoored"), the SD split's quality (against the
    true flags: metrics only) and its flag per image (``tensors["sd_flags"]``)."""
    poisoned, seed, device = data.poisoned, options.seed, options.torch_device
    stages = options.stages(STAGES, prefix="dst_dbr")
    backdoored = config.backdoored
    torch.manual_seed(seed)
    model = create_normalized(
        backdoored.model, backdoored.width, data.num_classes, config.normalization, device
    )
    torch.manual_seed(seed + 1)  # ours: the SD model's own initialisation
    sd = SampleDistinguishment(config.sd, config.normalization, data.num_classes, device)
    optimizers = {
        "backdoored": make_sgd(model.parameters(), backdoored.sgd),
        "sd": sd.optimizer,
        "br": make_sgd(model.parameters(), config.br.sgd),
    }
    before_br = torch.empty(0)  # the backdoored model's test metrics, kept for the result
    modules = {"model": model, "sd_model": sd.model}
    saved = stages.track(
        modules, optimizers, lambda: {**sd.tensors(), "backdoored_metrics": before_br}, device
    )
    sd.resume(saved, stages)
    if saved is not None and stages.reached("sd-train"):
        before_br = saved.tensor("backdoored_metrics")
    metrics = evaluation.of(model)
    options.logger.text("dst_dbr/d-br/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(options.logger, poisoned, "dst_dbr/examples")

    if stage := stages.start("backdoored", backdoored.epochs):
        batches = DeviceLoader.from_split(
            poisoned,
            backdoored.batch_size,
            shuffle=True,
            seed=seed,
            augment=backdoored.augment,
            device=device,
        )
        lr_at = step_lr(backdoored.sgd.lr, backdoored.milestones)
        stage.train(
            model=model,
            loader=batches,
            optimizer=optimizers["backdoored"],
            lr_at=lr_at,
            evaluate=metrics,
        )
    if not stages.reached("sd-train"):
        values = metrics()  # empty without a test set
        before_br = torch.tensor(
            [values[k] for k in METRIC_KEYS if k in values], dtype=torch.float64
        )

    split = sd.run(poisoned, stages, seed)
    if split is not None and (stage := stages.start("br", config.br.epochs)):
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
            stage=stage,
            evaluate=metrics,
        )

    groups = {MODEL: metrics()}
    if before_br.numel():
        groups["backdoored"] = dict(zip(METRIC_KEYS, before_br.tolist(), strict=True))
    if split is not None:
        groups["sd"] = split.quality(poisoned.is_poison)
    tensors = {} if split is None else {"sd_flags": split.flags}
    return DefenseResult(model, groups, stages.seconds, tensors=tensors)


TITLE = "D-BR, backdoor removal (Chen, Wu & Wang, NeurIPS 2022)"
SUMMARY = (
    "Trains a backdoored model, splits the training set by how much each image's features "
    "change when it is rotated and shifted, then purifies the model: gradient ascent on the "
    "suspected-poisoned part, descent on the suspected-clean part."
)
VARIANTS = {"code": DBRConfig(), "mini": MINI_DBR}
# code: seeded random picks among the non-target images
DEFENSE = Defense(
    "d-br", TITLE, SUMMARY, VARIANTS, STAGES, run, True, options=OPTIONS, selection="non-target"
)
