"""The defense contract (``contract``), the installed defenses (``registry``), the undefended
baseline (``none``) and the command line every defense shares (``cli``;
``python -m unpoison.defenses --list`` lists what is installed)."""

from unpoison.defenses.contract import (
    MODEL,
    VARIANTS,
    Defense,
    DefenseResult,
    Evaluation,
    RunOptions,
    TrainingData,
)
from unpoison.defenses.options import ConfigOption, shortcuts

__all__ = [
    "MODEL",
    "VARIANTS",
    "ConfigOption",
    "Defense",
    "DefenseResult",
    "Evaluation",
    "RunOptions",
    "TrainingData",
    "shortcuts",
]
