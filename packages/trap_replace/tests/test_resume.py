"""A run stopped after stage 1 or killed inside a stage resumes to the numbers of an uninterrupted
run (CPU): models, decoder, both optimizers, the dropout RNG and the CutMix draws."""

from dataclasses import replace

import pytest
import torch
import trap_replace
from digits_training import assert_same_result, train_on_digits
from interruption import Killed, KillingLogger
from unpoison.defenses import DefenseResult

TINY = replace(trap_replace.MINI_VARIANT, trap_epochs=2, replace_epochs=2)


@pytest.fixture(scope="module")
def small(trap_digits, digits):
    """256 training images, the holdout, 100 test and 100 triggered test images."""
    poisoned, holdout, backdoor_test = trap_digits
    first = torch.arange(100)
    return (
        poisoned.subset(torch.arange(256)),
        holdout,
        digits.test.subset(first),
        backdoor_test.subset(first),
    )


def run(small, checkpoint_dir, **kw) -> DefenseResult:
    poisoned, holdout, test, backdoor_test = small
    return train_on_digits(
        trap_replace.DEFENSE,
        poisoned,
        TINY,
        test,
        backdoor_test,
        holdout=holdout,
        checkpoint_dir=checkpoint_dir,
        **kw,
    )


@pytest.fixture(scope="module")
def uninterrupted(small, tmp_path_factory) -> DefenseResult:
    return run(small, tmp_path_factory.mktemp("uninterrupted"))


def test_resume_after_stage_one_matches_an_uninterrupted_run(
    small, tmp_path, uninterrupted
) -> None:
    partial = run(small, tmp_path, stop_after="trap")
    assert set(partial.stage_seconds) == {"trap"}
    assert "model" not in partial.metrics and "asr" in partial.metrics["trapped"]
    assert_same_result(run(small, tmp_path), uninterrupted)


@pytest.mark.parametrize(
    ("tag", "step"), [("trap_replace/trap/loss", 1), ("trap_replace/replace/loss", 2)]
)
def test_resume_after_a_kill_inside_a_stage_matches_an_uninterrupted_run(
    small, tmp_path, uninterrupted, tag: str, step: int
) -> None:
    with pytest.raises(Killed):
        run(small, tmp_path, logger=KillingLogger(tag, step))
    resumed = run(small, tmp_path)
    assert set(resumed.stage_seconds) == set(trap_replace.STAGES)
    assert_same_result(resumed, uninterrupted)
