"""ABL decides from images, labels and positions only, never from the true poison flags."""

from dataclasses import replace

import abl
import torch

TINY = replace(abl.MINI_VARIANT, isolation_epochs=1)


def test_isolation_ignores_the_true_flags_and_labels(poisoned_digits) -> None:
    poisoned, _ = poisoned_digits
    small = poisoned.subset(torch.arange(256))
    scrambled = replace(
        small,
        is_poison=torch.randperm(256, generator=torch.Generator().manual_seed(1)) < 128,
        y_true=torch.zeros_like(small.y_true),
    )
    kw = {"num_classes": 10, "config": TINY, "stop_after": "scoring", "progress": False}
    honest, fooled = abl.run(small, **kw), abl.run(scrambled, **kw)
    assert torch.equal(honest.isolated, fooled.isolated)
    for name, tensor in honest.model.state_dict().items():
        assert torch.equal(fooled.model.state_dict()[name], tensor), name
