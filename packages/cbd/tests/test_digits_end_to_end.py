"""CBD on digits with the mini settings: the paper's qualitative result, asserted in numbers.

trojan-3x3 at 10%, target 0, seed 0, in fp32. CBD removes the backdoor and keeps CBD's clean
accuracy (all test images) within 3 points, with the MI term off (the code's default) and on
(the paper's method). Measured ASR / CA_all on two CPUs (Intel with AMX; AMD with AVX512-BF16):
MI off 0.0 / 98.9 and 1.2 / 98.9; MI on 1.2 / 97.2 and 0.3 / 98.3. The weights do the work:
poisoned examples end phase 2 with a mean weight about a quarter of the clean ones'.

The mini setting is fragile on digits, where f_B learns the clean digits about as fast as a
patch trigger (see cbd.config.MINI_VARIANT), so this test pins what it can: fp32, whatever the
CPU computes natively. The same settings in bf16 gave MI off 5.0 and 12.5, MI on 2.2 and 19.9 on
those two CPUs. Other seeds (MI off, AMD CPU, ASR): trojan-3x3 58.6 and 71.0 for seeds 1-2 in
fp32; badnets-grid 3.1, 100, 0.0 for seeds 0-2, where seed 2 also drops the clean target class
(CA_all 88.1).
"""

from dataclasses import replace

import cbd
import pytest
from digits_training import train_on_digits
from unpoison import attacks
from unpoison.defenses import DefenseResult, none
from unpoison.train import MINI_NO_DEFENSE


@pytest.fixture(scope="module")
def trojan(digits):
    """(poisoned train split, backdoor test set) for trojan-3x3 at 10%, target 0, seed 0."""
    attack = attacks.create("trojan-3x3")
    poisoned = attacks.poison(digits.train, attack, 0.1, 0, seed=0, num_classes=10)
    return poisoned, attacks.backdoor_test_set(digits.test, attack, 0, 10)


@pytest.fixture(scope="module")
def no_defense(digits, trojan) -> dict[str, float]:
    poisoned, backdoor_test = trojan
    result = train_on_digits(none.DEFENSE, poisoned, MINI_NO_DEFENSE, digits.test, backdoor_test)
    return result.metrics["model"]


def defend(digits, trojan, disentangle: bool) -> DefenseResult:
    poisoned, backdoor_test = trojan
    return train_on_digits(
        cbd.DEFENSE,
        poisoned,
        replace(cbd.MINI_VARIANT, disentangle=disentangle),
        digits.test,
        backdoor_test,
    )


@pytest.mark.slow
def test_the_undefended_model_learns_the_backdoor(no_defense: dict[str, float]) -> None:
    assert no_defense["asr"] >= 90.0
    assert no_defense["ca_all"] >= 95.0


@pytest.mark.slow
@pytest.mark.parametrize("disentangle", [False, True], ids=["reweighting", "with-mi"])
def test_cbd_removes_the_backdoor_and_keeps_clean_accuracy(
    digits, trojan, no_defense: dict[str, float], disentangle: bool
) -> None:
    result = defend(digits, trojan, disentangle)
    assert result.metrics["model"]["asr"] <= 10.0
    assert result.metrics["model"]["ca_all"] >= no_defense["ca_all"] - 3.0
    weights = result.metrics["weights"]
    assert weights["mean_poisoned"] <= 0.5 * weights["mean_clean"]
    assert set(result.stage_seconds) == {"backdoored", "clean"}
