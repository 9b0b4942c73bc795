"""Stopping after a stage and resuming gives the numbers of an uninterrupted run (CPU)."""

from dataclasses import replace

import abl
import pytest
import torch
from abl.method import STAGES
from digits_training import train_on_digits
from unpoison.defenses import DefenseResult

TINY = replace(
    abl.MINI_VARIANT,
    isolation_epochs=2,
    finetune_epochs=2,
    finetune_milestones=(1,),
    unlearning_epochs=2,
)


@pytest.fixture(scope="module")
def small(poisoned_digits):
    poisoned, backdoor_test = poisoned_digits
    return poisoned.subset(torch.arange(384)), backdoor_test


def run(small, digits, checkpoint_dir, **kw) -> DefenseResult:
    poisoned, backdoor_test = small
    return train_on_digits(
        abl.DEFENSE, poisoned, TINY, digits.test, backdoor_test, checkpoint_dir=checkpoint_dir, **kw
    )


@pytest.fixture(scope="module")
def uninterrupted(small, digits, tmp_path_factory) -> DefenseResult:
    return run(small, digits, tmp_path_factory.mktemp("uninterrupted"))


@pytest.mark.parametrize("stop_after", ["isolation", "scoring", "finetune"])
def test_resume_after_a_stage_matches_an_uninterrupted_run(
    small, digits, tmp_path, uninterrupted, stop_after: str
) -> None:
    partial = run(small, digits, tmp_path, stop_after=stop_after)
    assert set(partial.stage_seconds) == set(STAGES[: STAGES.index(stop_after) + 1])
    resumed = run(small, digits, tmp_path)
    assert resumed.metrics == uninterrupted.metrics
    assert torch.equal(resumed.tensors["isolated"], uninterrupted.tensors["isolated"])
    for name, tensor in uninterrupted.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], tensor), name


def test_a_finished_run_is_not_trained_again(small, digits, tmp_path) -> None:
    first = run(small, digits, tmp_path)
    again = run(small, digits, tmp_path)
    assert again.metrics == first.metrics
    assert again.stage_seconds == first.stage_seconds  # loaded from the checkpoint, not re-timed
