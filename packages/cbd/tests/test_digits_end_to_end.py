"""CBD on digits with the mini settings: the paper's qualitative result, asserted in numbers.

trojan-3x3 at 10%, target 0, seed 0, in the precision CBD's mini reproduction trains in ("auto":
bf16 on a CPU with native bf16, fp32 elsewhere). No defense plants the backdoor (measured ASR
93.5, CA_all 98.9 in fp32; 91.6, 98.6 in bf16); CBD removes it and keeps CBD's clean accuracy
(all test images) within 3 points, with the MI term off (the code's default; measured ASR 0.0,
CA_all 98.9 in fp32; 5.0, 98.9 in bf16) and on (the paper's method; 1.2, 97.2 in fp32; 2.2, 98.6
in bf16). The weights do the work: poisoned examples end phase 2 with a mean weight a fifth (fp32)
to a third (bf16) of the clean ones'.

The mini setting is fragile on digits, where f_B learns the clean digits about as fast as a
patch trigger (see cbd.config.MINI_VARIANT): with seed 1 the same settings leave trojan-3x3 at
ASR 63, and on blend-strip CBD removes the backdoor but also the clean target class (CA_all
88.6, CA_nontarget 99.4).
"""

from dataclasses import replace

import cbd
import pytest
from unpoison import attacks
from unpoison.models.precision import compute_precision, resolve_precision
from unpoison.train import MINI_NO_DEFENSE, train_no_defense

PRECISION = resolve_precision("auto", "cpu")  # as reproductions/cbd's presets train


@pytest.fixture(scope="module")
def trojan(digits):
    """(poisoned train split, backdoor test set) for trojan-3x3 at 10%, target 0, seed 0."""
    attack = attacks.create("trojan-3x3")
    poisoned = attacks.poison(digits.train, attack, 0.1, 0, seed=0, num_classes=10)
    return poisoned, attacks.backdoor_test_set(digits.test, attack, 0, 10)


@pytest.fixture(scope="module")
def no_defense(digits, trojan) -> dict[str, float]:
    poisoned, backdoor_test = trojan
    with compute_precision(PRECISION):
        _, metrics = train_no_defense(
            poisoned, digits.test, backdoor_test, target=0, num_classes=10, config=MINI_NO_DEFENSE
        )
    return metrics


def defend(digits, trojan, disentangle: bool) -> cbd.CbdResult:
    poisoned, backdoor_test = trojan
    with compute_precision(PRECISION):
        return cbd.run(
            poisoned,
            num_classes=10,
            config=replace(cbd.MINI_VARIANT, disentangle=disentangle),
            test=digits.test,
            backdoor_test=backdoor_test,
            target=0,
            progress=False,
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
    assert result.metrics["asr"] <= 10.0
    assert result.metrics["ca_all"] >= no_defense["ca_all"] - 3.0
    assert result.metrics["weight_mean_poisoned"] <= 0.5 * result.metrics["weight_mean_clean"]
    assert set(result.stage_seconds) == {"backdoored", "clean"}
