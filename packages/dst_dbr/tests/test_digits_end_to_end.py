"""D-BR and D-ST on digits with their mini settings, BadNets (grid trigger, 10% of the non-target
images, target 0, seed 0): the numbers the mini reproduction reports for that row.

"measured" gives two CPUs' numbers where they differ, an Intel one (AMX) and an AMD one
(AVX512-BF16): training this short on digits takes different paths from the same seed when the
float rounding differs, so the bounds hold for both and say what each measured.
"""

import dst_dbr
import pytest
from unpoison import data
from unpoison.attacks.paper_presets import DST_DBR
from unpoison.defenses import DefenseResult


@pytest.fixture(scope="module")
def badnets():
    dataset = data.load("digits")
    attack = DST_DBR.create_attack("BadNets-all2one", "digits")
    poisoned = DST_DBR.poison(dataset.train, attack, dataset.num_classes, seed=0)
    backdoor_test = DST_DBR.backdoor_test_set(dataset.test, attack, dataset.num_classes)
    return {
        "poisoned": poisoned,
        "num_classes": dataset.num_classes,
        "test": dataset.test,
        "backdoor_test": backdoor_test,
        "target": 0,
        "progress": False,
    }


@pytest.fixture(scope="module")
def dbr(badnets) -> DefenseResult:
    inputs = dict(badnets)
    return dst_dbr.DBR.train(inputs.pop("poisoned"), config=dst_dbr.MINI_DBR, **inputs)


@pytest.mark.slow
def test_the_sd_split_separates_the_badnets_images(dbr) -> None:
    metrics = dbr.metrics["sd"]
    assert metrics["poisoned_precision"] >= 90  # measured 100
    assert metrics["poisoned_recall"] >= 40  # measured 60, 52 (the part is 5% of 9% poisoned)
    assert metrics["clean_precision"] >= 99  # measured 100
    # The quantile is taken on one draw of the random views and applied to a fresh one: 20% of
    # the images give or take 3 points (measured 266, 18.5%).
    assert metrics["clean_size"] == pytest.approx(0.2 * 1437, abs=0.03 * 1437)


@pytest.mark.slow
def test_d_br_removes_the_backdoor_it_purifies(dbr) -> None:
    metrics, backdoored = dbr.metrics["model"], dbr.metrics["backdoored"]
    assert backdoored["asr"] > 90
    assert metrics["asr"] <= 10
    assert metrics["ca_nontarget"] >= backdoored["ca_nontarget"] - 5


@pytest.mark.slow
def test_d_st_trains_a_model_without_the_backdoor(badnets, dbr) -> None:
    inputs = dict(badnets)
    result = dst_dbr.DST.train(inputs.pop("poisoned"), config=dst_dbr.MINI_DST, **inputs)
    # D-BR's FCT scores, reused: no SD model is trained, and the same poisoned part comes out
    assert "sd-train" not in result.stage_seconds
    assert result.metrics["sd"]["poisoned_precision"] == dbr.metrics["sd"]["poisoned_precision"]
    # the clean part is cut at D-ST's own 50%, not D-BR's 20% (dst_dbr.MINI_DST)
    assert result.metrics["sd"]["clean_size"] == pytest.approx(0.5 * 1437, abs=0.03 * 1437)
    assert result.metrics["sd"]["clean_size"] > 2 * dbr.metrics["sd"]["clean_size"]
    assert result.metrics["model"]["asr"] <= 10
    # measured 95.6 for seed 0 (the backdoored model: 99.7), 98.4 and 96.9 for seeds 1 and 2
    # (AMD CPU); #6's bar, the backdoored model's minus 5, is 94.7 here, too close to assert
    # across CPUs
    assert result.metrics["model"]["ca_nontarget"] >= 90
