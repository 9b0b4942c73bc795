"""The settings of each preset of the CBD reproduction, every value with its source.

``paper`` is CBD Table 1 (Zhang et al., CVPR 2023) on CIFAR-10 (``--dataset gtsrb`` for its GTSRB
rows) with CBD's hyperparameters and, for its ABL column, ABL's; ``paper-rates`` is Table 2 (poison
rates 1/5/20/50%). Both also give Table 3's training-time overhead of CBD over No defense. ``mini``
runs the same methods on the bundled digits images in minutes on a CPU; ``smoke`` only checks that
the machinery runs (tests).

CBD's official code ships the mutual-information term switched off, while the paper describes it
switched on: every preset runs CBD both ways ("CBD" = the code's default, "CBD + MI" = the paper's
description), so the table shows what the term is worth.
"""

from __future__ import annotations

from dataclasses import replace

from abl import MINI_VARIANT as ABL_MINI
from abl import AblConfig
from cbd import MINI_VARIANT as CBD_MINI
from cbd import CbdConfig
from unpoison.attacks.paper_presets import CBD as CBD_POISONING
from unpoison.reproduction import AttackRow, Preset, paper_row
from unpoison.train import MINI_NO_DEFENSE, NoDefenseConfig

# CBD code: inject_portion 0.1, target_label 0 (the Preset defaults); the seed is ours (CBD's
# selection is unseeded).
COLUMNS = ("No defense", "ABL", "CBD", "CBD + MI")


def cbd_row(paper_name: str, rate: float | None = None, dataset: str = "cifar10") -> AttackRow:
    """Row ``paper_name`` of CBD's table with CBD's own trigger variant (unpoison's ``cbd``
    poisoning preset, docs/attacks.md §6): "Blend" = ABL's stripe blend, "SIG" = CBD's sine;
    ``dataset`` picks the row's setting for that dataset (the short generator training on
    digits)."""
    return paper_row(CBD_POISONING, paper_name, rate, dataset=dataset)


# CBD Table 1 rows, in the paper's order.
TABLE1_ROWS = ("BadNets", "Trojan", "Blend", "SIG", "Dynamic", "WaNet")

# No defense as CBD's comparison trains it: WRN-16-1 with CBD's f_C schedule (100 epochs, lr 0.1,
# x0.1 at 20 and 70, batch 64, crop + flip + Cutout), the same as one CBD f_C run without weights.
PAPER_NO_DEFENSE = replace(NoDefenseConfig(), epochs=100, batch_size=64, milestones=(20, 70))

PAPER_CONFIGS = {"none": PAPER_NO_DEFENSE, "abl": AblConfig(), "cbd": CbdConfig()}
PAPER = Preset(
    "paper", "cifar10", tuple(cbd_row(name) for name in TABLE1_ROWS), PAPER_CONFIGS, COLUMNS
)

# CBD Table 2: BadNets, Trojan, Blend and WaNet at 1, 5, 20 and 50% poison (No defense and CBD).
PAPER_RATES = replace(
    PAPER,
    name="paper-rates",
    attacks=tuple(
        cbd_row(name, rate)
        for name in ("BadNets", "Trojan", "Blend", "WaNet")
        for rate in (0.01, 0.05, 0.2, 0.5)
    ),
    columns=("No defense", "CBD", "CBD + MI"),
)

# mini: digits with the rescaled settings of cbd.MINI_VARIANT, abl.MINI_VARIANT and
# unpoison.train.MINI_NO_DEFENSE (each value's reason is written there).
MINI = Preset(
    name="mini",
    dataset="digits",
    attacks=tuple(cbd_row(name) for name in ("BadNets", "Trojan", "Blend", "SIG")),
    configs={"none": MINI_NO_DEFENSE, "abl": ABL_MINI, "cbd": CBD_MINI},
    columns=COLUMNS,
    compare="qualitative",
)

# Table 1's learned attack on digits: the input-aware generators are trained first (about a
# minute, then cached), so it has its own preset, as in the other reproductions.
MINI_LEARNED = replace(MINI, name="mini-learned", attacks=(cbd_row("Dynamic", dataset="digits"),))

SMOKE = MINI.shortened(name="smoke", attacks=(cbd_row("BadNets"),), columns=("No defense", "CBD"))

PRESETS = {preset.name: preset for preset in (MINI, MINI_LEARNED, PAPER, PAPER_RATES, SMOKE)}
