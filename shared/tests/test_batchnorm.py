"""Recomputed BatchNorm statistics are the exact batch-pass averages; the original is untouched."""

import torch
from torch import nn
from unpoison.data.loader import DeviceLoader
from unpoison.train import recalibrated_copy


def test_recalibrated_statistics_are_exact_averages_and_the_original_is_unchanged() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8)
    loader = DeviceLoader(x, torch.zeros(40, dtype=torch.int64), batch_size=20)

    calibrated = recalibrated_copy(model, loader)

    with torch.no_grad():
        features = [model[0](batch) for batch, _, _ in loader]
    means = torch.stack([f.mean(dim=(0, 2, 3)) for f in features])
    variances = torch.stack([f.var(dim=(0, 2, 3), unbiased=True) for f in features])
    bn = calibrated[1]
    torch.testing.assert_close(bn.running_mean, means.mean(0))
    torch.testing.assert_close(bn.running_var, variances.mean(0))
    assert not calibrated.training
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
