"""A run stopped after a phase or killed inside one resumes to the numbers of an uninterrupted
run (CPU), with the discriminator, its optimizer and the dropout RNG restored."""

from dataclasses import replace

import cbd
import pytest
import torch
from cbd.method import STAGES
from digits_training import assert_same_result, train_on_digits
from interruption import Killed, KillingLogger
from unpoison.defenses import DefenseResult

TINY = replace(cbd.MINI_VARIANT, backdoored_epochs=2, clean_epochs=2, disentangle=True)


@pytest.fixture(scope="module")
def small(poisoned_digits, digits):
    """256 training images, 100 test and 100 triggered test images (a fast evaluation)."""
    poisoned, backdoor_test = poisoned_digits
    first = torch.arange(100)
    test, backdoor_test = digits.test.subset(first), backdoor_test.subset(first)
    return poisoned.subset(torch.arange(256)), test, backdoor_test


def run(small, checkpoint_dir, **kw) -> DefenseResult:
    poisoned, test, backdoor_test = small
    return train_on_digits(
        cbd.DEFENSE, poisoned, TINY, test, backdoor_test, checkpoint_dir=checkpoint_dir, **kw
    )


@pytest.fixture(scope="module")
def uninterrupted(small, tmp_path_factory) -> DefenseResult:
    return run(small, tmp_path_factory.mktemp("uninterrupted"))


def test_resume_after_phase_one_matches_an_uninterrupted_run(
    small, tmp_path, uninterrupted
) -> None:
    partial = run(small, tmp_path, stop_after="backdoored")
    assert set(partial.stage_seconds) == {"backdoored"}
    assert set(partial.metrics) == {"backdoored"} and "asr" in partial.metrics["backdoored"]
    assert_same_result(run(small, tmp_path), uninterrupted)


@pytest.mark.parametrize(("tag", "step"), [("cbd/backdoored/loss", 2), ("cbd/clean/loss", 2)])
def test_resume_after_a_kill_inside_a_phase_matches_an_uninterrupted_run(
    small, tmp_path, uninterrupted, tag: str, step: int
) -> None:
    with pytest.raises(Killed):
        run(small, tmp_path, logger=KillingLogger(tag, step))
    resumed = run(small, tmp_path)
    assert set(resumed.stage_seconds) == set(STAGES)
    assert_same_result(resumed, uninterrupted)


def test_a_finished_run_is_not_trained_again(small, tmp_path) -> None:
    first = run(small, tmp_path)
    again = run(small, tmp_path)
    assert again.metrics == first.metrics
    assert again.stage_seconds == first.stage_seconds  # loaded from the checkpoint, not re-timed
