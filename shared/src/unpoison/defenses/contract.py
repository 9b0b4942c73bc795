"""The contract every defense keeps, declared once.

A defense is a ``Defense``: a name, a frozen config class with named variants (``code``: the
official code's settings, ``paper``: the paper's description, ``mini``: rescaled for the bundled
digits on a CPU), what it assumes of the defender (trains from scratch on the poisoned set or
purifies a model; the fraction of the training set it keeps aside as a clean holdout) and a
``run``. ``run(data, config, evaluation, options)`` trains on the poisoned training split and
returns a ``DefenseResult``. The true poison flags and labels in ``data.poisoned`` only feed
metrics: no decision of a defense may read them, nor anything of ``evaluation``'s test sets.

Packages publish their defenses as ``unpoison.defenses`` entry points (``unpoison.defenses.
registry``); ``docs/adding-a-defense.md`` walks through writing one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch
from torch import nn

from unpoison.data.split import PoisonedSplit, Split
from unpoison.defenses.options import ConfigOption
from unpoison.logging import NullLogger
from unpoison.metrics import evaluator
from unpoison.train.stages import Stages

Config = TypeVar("Config")
MODEL = "model"  # the metrics group of the model a defense returns
VARIANTS = ("code", "paper", "mini")  # the variant names, in the order they are listed


@dataclass(frozen=True)
class TrainingData:
    """What a defense trains on: the poisoned split and, when the defender keeps one, a clean
    holdout (its images are never poisoned)."""

    poisoned: PoisonedSplit
    num_classes: int
    holdout: Split | None = None


@dataclass(frozen=True)
class Evaluation:
    """The sets every epoch's metrics come from (CA_all, CA_nontarget, ASR; ``unpoison.
    metrics``); without them nothing is evaluated. Never read by a defense's decisions."""

    test: Split | None = None
    backdoor_test: Split | None = None
    target: int | None = None

    def of(self, model: nn.Module) -> Callable[[], dict[str, float]]:
        """The metrics of ``model`` now (an empty dict without test sets)."""
        return evaluator(model, self.test, self.backdoor_test, self.target)


@dataclass(frozen=True)
class RunOptions:
    """How a run goes, as opposed to what it computes (except ``seed``)."""

    seed: int = 0
    device: torch.device | str = "cpu"
    logger: NullLogger = field(default_factory=NullLogger)
    checkpoint_dir: str | Path | None = None  # with it the run saves every epoch and resumes there
    stop_after: str | None = None  # a stage name: end the run after it
    progress: bool = True  # progress bars

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def stages(self, names: tuple[str, ...], prefix: str) -> Stages:
        """The run's ``Stages`` (``unpoison.train.stages``); ``prefix`` heads its log tags."""
        return Stages(
            names,
            prefix=prefix,
            checkpoint_dir=self.checkpoint_dir,
            stop_after=self.stop_after,
            logger=self.logger,
            progress=self.progress,
        )


@dataclass
class DefenseResult:
    """What every defense's ``run`` returns."""

    model: nn.Module  # the defended model
    # metric groups: MODEL holds the returned model's final test metrics (empty without test
    # sets); others hold another model's ("backdoored") or a stage's ("isolation", "sd")
    metrics: dict[str, dict[str, float]]
    stage_seconds: dict[str, float]
    models: dict[str, nn.Module] = field(default_factory=dict)  # other models, by role
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)  # e.g. the isolated positions


Run = Callable[[TrainingData, Any, Evaluation, RunOptions], DefenseResult]


@dataclass(frozen=True)
class Defense(Generic[Config]):
    """One defense: its name, its config variants, its assumptions, and its ``run``."""

    name: str  # as registered and typed on the command line, e.g. "abl", "d-st"
    title: str  # the paper, e.g. "Anti-Backdoor Learning (Li et al., NeurIPS 2021)"
    summary: str  # one sentence: what it does
    # "code" (required), "paper" and "mini" where they exist: instances of one frozen config class
    variants: Mapping[str, Config]
    stages: tuple[str, ...]
    run: Run
    purifies: bool = False  # False: trains from scratch on the poisoned set
    # variant -> the fraction of the training set the defender keeps aside as a clean holdout
    holdout: Mapping[str, float] = field(default_factory=dict)
    options: tuple[ConfigOption, ...] = ()  # its own command-line shortcuts to config fields
    selection: str = "all"  # which images its paper's code poisons (unpoison.attacks.SELECTIONS)

    def __post_init__(self) -> None:
        if "code" not in self.variants:
            raise ValueError(f"defense {self.name!r} has no 'code' variant")
        unknown = set(self.variants) - set(VARIANTS)
        if unknown:
            raise ValueError(f"defense {self.name!r}: unknown variants {sorted(unknown)}")
        for variant, config in self.variants.items():
            if type(config) is not self.config_type:
                raise ValueError(f"defense {self.name!r}: variant {variant!r} is no config")

    @property
    def config_type(self) -> type[Config]:
        """The defense's config class."""
        return type(self.variants["code"])

    def config(self, variant: str = "code") -> Config:
        """The config of ``variant``; ValueError naming the variants this defense has."""
        if variant not in self.variants:
            raise ValueError(
                f"{self.name} has no variant {variant!r}; variants: {', '.join(self.variants)}"
            )
        return self.variants[variant]

    def train(
        self,
        poisoned: PoisonedSplit,
        *,
        num_classes: int,
        config: Config | None = None,
        holdout: Split | None = None,
        test: Split | None = None,
        backdoor_test: Split | None = None,
        target: int | None = None,
        **options: Any,
    ) -> DefenseResult:
        """``run`` from keywords: the ``code`` config unless ``config`` is given; ``options``
        are ``RunOptions``' fields (seed, device, logger, checkpoint_dir, stop_after, progress)."""
        return self.run(
            TrainingData(poisoned, num_classes, holdout),
            self.variants["code"] if config is None else config,
            Evaluation(test, backdoor_test, target),
            RunOptions(**options),
        )

    def holdout_for(self, variant: str) -> float | None:
        """The clean-holdout fraction ``variant`` assumes (None: the defense keeps none)."""
        return self.holdout.get(variant, self.holdout.get("code"))
