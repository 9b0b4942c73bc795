"""Bad settings fail when the config is built, with a message naming the setting."""

import pytest
from dst_dbr import BackdooredConfig, BRConfig, SDConfig, STConfig


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SDConfig(clean_ratio=0.0), "clean_ratio"),
        (lambda: SDConfig(clean_ratio=0.9, poison_ratio=0.2), "at most 1"),
        (lambda: SDConfig(width=0), "width"),
        (lambda: STConfig(contrast="simclr"), "contrast"),
        (lambda: STConfig(warmup_epochs=300), "warmup_epochs"),
        (lambda: STConfig(temperature=0.0), "temperature"),
        (lambda: STConfig(classifier_milestones=(75, 60)), "classifier_milestones"),
        (lambda: BackdooredConfig(milestones=(150, 100)), "milestones"),
        (lambda: BRConfig(epochs=0), "epochs"),
    ],
)
def test_bad_settings_are_rejected(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
