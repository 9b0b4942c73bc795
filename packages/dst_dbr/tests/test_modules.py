"""The SD fine-tune and the ST classifier on a tiny random set: what each stage may change."""

import copy

import pytest
import torch
from dst_dbr import CLEAN, POISONED, UNCERTAIN, STConfig
from dst_dbr.sd import TWO_PASS_BN_MOMENTUM, _bn_momentum, create_normalized
from dst_dbr.st import instance_only, train_classifier
from torch import nn
from unpoison.data import SimCLRAugment
from unpoison.logging import NullLogger
from unpoison.train import Stages

NORMALIZATION = ((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


def test_one_pass_at_momentum_0_19_equals_the_codes_two_passes() -> None:
    x = torch.randn(16, 3, 4, 4)
    twice, once = nn.BatchNorm2d(3), nn.BatchNorm2d(3)
    twice.running_mean.fill_(0.3)
    twice.running_var.fill_(2.0)
    once.load_state_dict(twice.state_dict())
    twice(x)
    twice(x)
    with _bn_momentum(once, TWO_PASS_BN_MOMENTUM):
        once(x)
    assert once.momentum == 0.1  # restored after the block
    torch.testing.assert_close(once.running_mean, twice.running_mean)
    torch.testing.assert_close(once.running_var, twice.running_var)


def test_instance_only_per_contrast_mode() -> None:
    flags = torch.tensor([CLEAN, UNCERTAIN, POISONED])
    assert instance_only(flags, "ss-ctl").tolist() == [False, True, True]
    assert instance_only(flags, "s-ctl").tolist() == [False, False, False]
    assert instance_only(flags, "ctl").tolist() == [True, True, True]


@pytest.fixture
def tiny():
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 4, (40,), generator=generator)
    flags = torch.tensor([CLEAN, UNCERTAIN, POISONED, CLEAN] * 10)
    torch.manual_seed(0)
    model = create_normalized("resnet18-supcon-maxpool", 16, 4, NORMALIZATION, torch.device("cpu"))
    return images, labels, flags, model


class LrRecorder(NullLogger):
    def __init__(self) -> None:
        self.lrs: list[float] = []

    def scalar(self, tag: str, value: float, step: int) -> None:
        if tag == "dst_dbr/st/classifier/lr":
            self.lrs.append(value)


def train_head(tiny, config: STConfig) -> list[float]:
    """Run the classifier stage on ``tiny``; returns the lr of each epoch."""
    images, labels, flags, model = tiny
    recorder = LrRecorder()
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=config.classifier_sgd.lr)
    stages = Stages(("classifier",), prefix="dst_dbr/st", logger=recorder, progress=False)
    train_classifier(
        model,
        optimizer,
        images,
        labels,
        flags,
        config,
        seed=0,
        stage=stages.start("classifier", config.classifier_epochs),
        evaluate=dict,
    )
    return recorder.lrs


def test_the_classifier_stage_trains_only_the_linear_layer(tiny) -> None:
    model = tiny[3]
    before = copy.deepcopy(model.state_dict())
    train_head(
        tiny,
        STConfig(width=16, augment=SimCLRAugment(), classifier_epochs=2, classifier_batch_size=8),
    )
    after = model.state_dict()
    changed = {name for name in after if not torch.equal(after[name], before[name])}
    assert changed == {"backbone.fc.weight", "backbone.fc.bias"}  # BN statistics included
    assert all(p.grad is None for n, p in model.named_parameters() if ".fc." not in n)


def test_the_classifier_lr_is_the_codes_constant_5_over_its_10_epochs(tiny) -> None:
    config = STConfig(width=16, classifier_batch_size=40)
    assert train_head(tiny, config) == [5.0] * 10


def test_the_classifier_lr_drops_tenfold_at_each_milestone(tiny) -> None:
    config = STConfig(
        width=16, classifier_epochs=4, classifier_batch_size=40, classifier_milestones=(1, 3)
    )
    assert train_head(tiny, config) == pytest.approx([5.0, 0.5, 0.5, 0.05])
