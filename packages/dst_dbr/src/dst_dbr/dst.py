"""D-ST: secure training from scratch (Chen, Wu & Wang, "Effective Backdoor Defense by
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

from dataclasses import asdict

import torch
from unpoison.defenses import MODEL, Defense, DefenseResult, Evaluation, RunOptions, TrainingData
from unpoison.logging import log_poison_examples
from unpoison.train import make_sgd

from dst_dbr.config import MINI_DST, DSTConfig
from dst_dbr.options import DST_OPTIONS as OPTIONS
from dst_dbr.sd import SD_STAGES, SampleDistinguishment, create_normalized
from dst_dbr.st import train_classifier, train_extractor

STAGES = (*SD_STAGES, "extractor", "classifier")


def run(
    data: TrainingData, config: DSTConfig, evaluation: Evaluation, options: RunOptions
) -> DefenseResult:
    """Train a model on the poisoned split with D-ST. The result holds the SD split's quality
    (against the true flags: metrics only) and its flag per image (``tensors["sd_flags"]``)."""
    poisoned, st, seed, device = data.poisoned, config.st, options.seed, options.torch_device
    stages = options.stages(STAGES, prefix="dst_dbr")
    torch.manual_seed(seed + 1)  # the SD model's initialisation, as in D-BR
    sd = SampleDistinguishment(config.sd, config.normalization, data.num_classes, device)
    torch.manual_seed(seed)
    model = create_normalized(st.model, st.width, data.num_classes, config.normalization, device)
    encoder = [p for name, p in model.backbone.named_parameters() if not name.startswith("fc.")]
    optimizers = {
        "sd": sd.optimizer,
        "extractor": make_sgd(encoder, st.extractor_sgd),
        "classifier": make_sgd(model.fc.parameters(), st.classifier_sgd),
    }
    modules = {"model": model, "sd_model": sd.model}
    sd.resume(stages.track(modules, optimizers, sd.tensors, device), stages)
    options.logger.text("dst_dbr/d-st/config", f"```\n{asdict(config)}\n```")
    log_poison_examples(options.logger, poisoned, "dst_dbr/examples")

    split = sd.run(poisoned, stages, seed)
    groups: dict[str, dict[str, float]] = {}
    if split is not None:
        flags = split.flags.to(poisoned.y.device)
        if stage := stages.start("extractor", st.extractor_epochs):
            train_extractor(
                model,
                optimizers["extractor"],
                poisoned.x,
                poisoned.y,
                flags,
                st,
                seed=seed,
                stage=stage,
            )
        if stage := stages.start("classifier", st.classifier_epochs):
            train_classifier(
                model,
                optimizers["classifier"],
                poisoned.x,
                poisoned.y,
                flags,
                st,
                seed=seed,
                stage=stage,
                evaluate=evaluation.of(model),
            )
        if options.stop_after in (None, "classifier"):
            groups[MODEL] = evaluation.of(model)()
        groups["sd"] = split.quality(poisoned.is_poison)
    tensors = {} if split is None else {"sd_flags": split.flags}
    return DefenseResult(model, groups, stages.seconds, tensors=tensors)


TITLE = "D-ST, secure training from scratch (Chen, Wu & Wang, NeurIPS 2022)"
SUMMARY = (
    "Splits the training set by how much each image's features change when it is rotated and "
    "shifted, then trains a new model from scratch: contrastive features on every image, then a "
    "linear layer that learns the suspected-clean part and unlearns the suspected-poisoned one."
)
VARIANTS = {"code": DSTConfig(), "mini": MINI_DST}
# code: seeded random picks among the non-target images
DEFENSE = Defense(
    "d-st", TITLE, SUMMARY, VARIANTS, STAGES, run, options=OPTIONS, selection="non-target"
)
