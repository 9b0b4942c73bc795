"""A NaN or infinite loss in phase 2 stops the run, naming the stage, epoch and step."""

from dataclasses import replace

import cbd
import pytest
import torch
from unpoison.train import NonFiniteLossError, SGDConfig


def test_a_diverging_clean_phase_stops_the_run(poisoned_digits) -> None:
    poisoned, _ = poisoned_digits
    config = replace(
        cbd.MINI_VARIANT, backdoored_epochs=1, clean_epochs=1, clean_sgd=SGDConfig(lr=1e12)
    )
    with pytest.raises(NonFiniteLossError, match="stage 'cbd/clean', epoch 0"):
        cbd.DEFENSE.train(
            poisoned.subset(torch.arange(256)), num_classes=10, config=config, progress=False
        )
