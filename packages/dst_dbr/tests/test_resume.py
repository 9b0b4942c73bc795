"""A run stopped after a stage or killed inside one resumes to the numbers of an uninterrupted run
(CPU): models, optimizers, the SD split and the augmentation draws."""

from dataclasses import replace

import dst_dbr
import pytest
import torch
from dst_dbr import sd
from interruption import Killed, KillingLogger

SD = replace(dst_dbr.MINI_DST.sd, width=16, train_epochs=2, finetune_epochs=2)
CONFIGS = {
    "d-st": replace(
        dst_dbr.MINI_DST,
        sd=SD,
        st=replace(
            dst_dbr.MINI_DST.st,
            width=16,
            extractor_epochs=2,
            warmup_epochs=1,
            extractor_batch_size=64,
            classifier_epochs=2,
            classifier_batch_size=64,
        ),
    ),
    "d-br": replace(
        dst_dbr.MINI_DBR,
        backdoored=replace(dst_dbr.MINI_DBR.backdoored, width=16, epochs=2, milestones=(1,)),
        sd=SD,
        br=replace(dst_dbr.MINI_DBR.br, epochs=2, batch_size=32),
    ),
}
RUNS = {"d-st": dst_dbr.DST.train, "d-br": dst_dbr.DBR.train}
STAGES = {"d-st": dst_dbr.DST.stages, "d-br": dst_dbr.DBR.stages}
# (a stage to stop after, a logged tag and step to kill the run at) per method
INTERRUPTIONS = {
    "d-st": [
        ("sd-split", None),
        (None, ("dst_dbr/sd/finetune/loss", 1)),
        (None, ("dst_dbr/extractor/loss", 1)),
        (None, ("dst_dbr/classifier/loss", 1)),
    ],
    "d-br": [
        ("backdoored", None),
        (None, ("dst_dbr/sd/train/loss", 1)),
        (None, ("dst_dbr/br/ascent_ce", 1)),
    ],
}


@pytest.fixture(scope="module")
def small(poisoned_digits, digits):
    """300 training images, 100 test and 100 triggered test images."""
    poisoned, backdoor_test = poisoned_digits
    first = torch.arange(100)
    return (
        poisoned.subset(torch.arange(300)),
        digits.test.subset(first),
        backdoor_test.subset(first),
    )


def run(method: str, small, checkpoint_dir, **kw):
    poisoned, test, backdoor_test = small
    sd._SCORES.clear()  # every run scores for itself: a resumed one must not borrow scores
    return RUNS[method](
        poisoned,
        num_classes=10,
        config=CONFIGS[method],
        test=test,
        backdoor_test=backdoor_test,
        target=0,
        checkpoint_dir=checkpoint_dir,
        progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def uninterrupted(small, tmp_path_factory):
    return {m: run(m, small, tmp_path_factory.mktemp(m)) for m in RUNS}


@pytest.mark.parametrize(
    ("method", "stop_after", "kill"),
    [(m, stop, kill) for m, cases in INTERRUPTIONS.items() for stop, kill in cases],
)
def test_a_resumed_run_matches_an_uninterrupted_one(
    method: str, stop_after, kill, small, tmp_path, uninterrupted
) -> None:
    if stop_after is not None:
        partial = run(method, small, tmp_path, stop_after=stop_after)
        stages = STAGES[method]
        assert set(partial.stage_seconds) == set(stages[: stages.index(stop_after) + 1])
    else:
        with pytest.raises(Killed):
            run(method, small, tmp_path, logger=KillingLogger(*kill))
    resumed = run(method, small, tmp_path)
    expected = uninterrupted[method]
    assert resumed.metrics == expected.metrics
    assert torch.equal(resumed.tensors["sd_flags"], expected.tensors["sd_flags"])
    for name, tensor in resumed.model.state_dict().items():
        assert torch.equal(expected.model.state_dict()[name], tensor), name
