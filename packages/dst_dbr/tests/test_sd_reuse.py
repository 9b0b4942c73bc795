"""A second SD run on the same data with the same SD model settings and seed takes the first run's
FCT scores and only places its own thresholds, so D-ST and D-BR may split at different ratios."""

from dataclasses import replace

import dst_dbr
import torch
from dst_dbr import sd

SD = replace(dst_dbr.MINI_DST.sd, width=16, train_epochs=1, finetune_epochs=1)


def split(poisoned, clean_ratio: float):
    config = replace(dst_dbr.MINI_DST, sd=replace(SD, clean_ratio=clean_ratio))
    return dst_dbr.DST.train(
        poisoned, num_classes=10, config=config, stop_after="sd-split", progress=False
    )


def test_a_wider_clean_part_reuses_the_scores_and_keeps_the_poisoned_part(poisoned_digits):
    poisoned = poisoned_digits[0].subset(torch.arange(300))
    sd._SCORES.clear()
    narrow = split(poisoned, 0.2)
    wide = split(poisoned, 0.5)
    assert "sd-train" in narrow.stage_seconds
    assert "sd-train" not in wide.stage_seconds  # no SD model trained the second time
    narrow_flags, wide_flags = narrow.tensors["sd_flags"], wide.tensors["sd_flags"]
    narrow_clean, wide_clean = narrow_flags == dst_dbr.CLEAN, wide_flags == dst_dbr.CLEAN
    assert bool((narrow_clean <= wide_clean).all())  # one score per image, a higher cut
    # the parts are cut from a second draw of the views, so their sizes are near the ratios
    assert abs(int(narrow_clean.sum()) - 60) <= 15
    assert abs(int(wide_clean.sum()) - 150) <= 15
    assert torch.equal(narrow_flags == dst_dbr.POISONED, wide_flags == dst_dbr.POISONED)
