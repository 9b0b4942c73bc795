"""StageProgress: resume points, pending stages and per-stage timing."""

import pytest
from unpoison.train import Checkpoint, StageProgress

STAGES = ("first", "second", "third")


def checkpoint(stage: str, epoch: int, seconds: dict[str, float]) -> Checkpoint:
    return Checkpoint(stage, epoch, {"stage_seconds": seconds}, tensors={}, optimizer_meta={})


def test_a_fresh_run_has_every_stage_pending_from_epoch_zero() -> None:
    stages = StageProgress(STAGES)
    assert [stages.pending(s) for s in STAGES] == [True, True, True]
    assert [stages.start_epoch(s) for s in STAGES] == [0, 0, 0]
    assert not stages.reached("first")


def test_resume_skips_finished_stages_and_continues_the_interrupted_one() -> None:
    stages = StageProgress(STAGES)
    stages.resume_from(checkpoint("second", 3, {"first": 10.0, "second": 4.0}))
    assert [stages.pending(s) for s in STAGES] == [False, True, True]
    assert (stages.start_epoch("second"), stages.start_epoch("third")) == (3, 0)
    assert stages.reached("second") and not stages.reached("third")
    stages.start("second")
    stages.tick()
    assert stages.seconds["second"] >= 4.0 and stages.seconds["first"] == 10.0


def test_stop_after_ends_the_run_after_that_stage() -> None:
    stages = StageProgress(STAGES, stop_after="second")
    assert [stages.pending(s) for s in STAGES] == [True, True, False]
    with pytest.raises(ValueError, match="stop_after must be one of"):
        StageProgress(STAGES, stop_after="fourth")
