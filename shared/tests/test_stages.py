"""Stages: which stages still have work, where each resumes, stop_after and per-stage timing."""

import pytest
from unpoison.train import Checkpoint, Stages

STAGES = ("first", "second", "third")


def checkpoint(stage: str, epoch: int, seconds: dict[str, float]) -> Checkpoint:
    return Checkpoint(stage, epoch, {"stage_seconds": seconds}, tensors={}, optimizer_meta={})


def test_a_fresh_run_starts_every_stage_with_epochs_at_epoch_zero() -> None:
    stages = Stages(STAGES, prefix="method")
    assert [stages.start(s, 3).start_epoch for s in STAGES] == [0, 0, 0]
    assert stages.start("first", 0) is None  # a stage without epochs has nothing to run
    assert not stages.reached("first")


def test_resume_skips_finished_stages_and_continues_the_interrupted_one() -> None:
    stages = Stages(STAGES, prefix="method")
    stages.resume_from(checkpoint("second", 3, {"first": 10.0, "second": 4.0}))
    assert stages.start("first", 5) is None
    assert stages.start("second", 3) is None  # all 3 epochs done
    assert stages.start("second", 5).start_epoch == 3
    assert stages.start("third", 2).start_epoch == 0
    assert stages.reached("second") and not stages.reached("third")
    stage = stages.start("second", 5)
    stage.save(4)  # no checkpoint folder: only the time is recorded
    assert stages.seconds["second"] >= 4.0 and stages.seconds["first"] == 10.0


def test_a_stage_without_epochs_is_done_once_saved() -> None:
    stages = Stages(STAGES, prefix="method")
    stages.resume_from(checkpoint("second", 1, {}))
    assert stages.start("second") is None  # its one step was saved
    stages.resume_from(checkpoint("first", 2, {}))
    assert stages.start("second") is not None


def test_stop_after_ends_the_run_after_that_stage() -> None:
    stages = Stages(STAGES, prefix="method", stop_after="second")
    assert [stages.start(s, 1) is not None for s in STAGES] == [True, True, False]
    with pytest.raises(ValueError, match="stop_after must be one of"):
        Stages(STAGES, prefix="method", stop_after="fourth")


def test_log_tags_join_the_prefix_and_the_stage_name() -> None:
    assert Stages(("sd-train",), prefix="dst_dbr").start("sd-train").tag == "dst_dbr/sd/train"
    assert Stages(("plain",), prefix="").start("plain").tag == "plain"
