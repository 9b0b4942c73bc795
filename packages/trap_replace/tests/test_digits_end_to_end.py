"""T&R on digits with the mini settings: the paper's qualitative result, asserted in numbers.

badnets-grid under T&R's rules (the first 10% of the whole set's non-target images; the last 20%
of the training images held out clean), target 0, seed 0. No defense plants the backdoor
(measured ASR 99.4, CA_all 99.2); stage 1 of T&R learns it too (ASR 100, CA_all 99.2), and the
replaced head removes it while keeping CA_all within T&R's 5-point budget (measured ASR 0.0,
CA_all 95.0).
"""

import pytest
import trap_replace
from digits_training import train_on_digits
from unpoison.defenses import none
from unpoison.train import MINI_NO_DEFENSE


@pytest.mark.slow
def test_trap_and_replace_removes_the_backdoor_and_keeps_clean_accuracy(
    digits, trap_digits
) -> None:
    poisoned, holdout, backdoor_test = trap_digits
    undefended = train_on_digits(
        none.DEFENSE, poisoned, MINI_NO_DEFENSE, digits.test, backdoor_test
    ).metrics["model"]
    result = train_on_digits(
        trap_replace.DEFENSE,
        poisoned,
        trap_replace.MINI_VARIANT,
        digits.test,
        backdoor_test,
        holdout=holdout,
    )
    assert undefended["asr"] >= 90.0
    assert result.metrics["trapped"]["asr"] >= 90.0  # stage 1 was backdoored: the head trapped it
    assert result.metrics["model"]["asr"] <= 10.0
    assert result.metrics["model"]["ca_all"] >= undefended["ca_all"] - 5.0
    assert set(result.stage_seconds) == {"trap", "replace"}
