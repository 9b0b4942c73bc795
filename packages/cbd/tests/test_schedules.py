"""The learning rates CBD sets: f_B's (the code's bug or the intended schedule), f_C's and the
discriminator's, read back from the logged values of a tiny run."""

from dataclasses import replace

import cbd
import pytest
import torch
from unpoison.logging import NullLogger


class Recorder(NullLogger):
    def __init__(self) -> None:
        self.values: dict[str, dict[int, float]] = {}

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.values.setdefault(tag, {})[step] = value


def logged_lrs(poisoned_digits, **overrides) -> dict[str, list[float]]:
    poisoned, _ = poisoned_digits
    config = replace(
        cbd.MINI_VARIANT,
        backdoored_epochs=2,
        clean_epochs=2,
        clean_milestones=(1,),
        disentangle=True,
        discriminator_lr_step=2,
        **overrides,
    )
    recorder = Recorder()
    small = poisoned.subset(torch.arange(128))
    cbd.DEFENSE.train(small, num_classes=10, config=config, logger=recorder, progress=False)
    return {
        name: list(recorder.values[f"cbd/{name}"].values())
        for name in ("backdoored/lr", "clean/lr", "clean/discriminator_lr")
    }


def test_the_code_keeps_f_b_at_a_constant_rate(poisoned_digits) -> None:
    lrs = logged_lrs(poisoned_digits)
    assert lrs["backdoored/lr"] == pytest.approx([0.015, 0.015])  # MINI_VARIANT's f_B lr
    assert lrs["clean/lr"] == pytest.approx([0.1, 0.01])
    # StepLR(step 2, x0.1) stepped at the start of each epoch: lr * 0.1 ** ((e + 1) // 2).
    assert lrs["clean/discriminator_lr"] == pytest.approx([0.2, 0.02])


def test_the_intended_schedule_steps_f_b_at_the_clean_milestones(poisoned_digits) -> None:
    lrs = logged_lrs(poisoned_digits, backdoored_schedule="intended")
    assert lrs["backdoored/lr"] == pytest.approx([0.015, 0.0015])


def test_the_discriminator_rate_steps_like_the_code() -> None:
    config = cbd.CbdConfig()
    # StepLR(20, 0.1) stepped at the start of every epoch: 0.2 until epoch 18, then 0.02 ...
    assert [config.discriminator_lr_at(e) for e in (0, 18, 19, 38, 39)] == pytest.approx(
        [0.2, 0.2, 0.02, 0.02, 0.002]
    )
