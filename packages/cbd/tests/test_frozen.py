"""After phase 1, f_B is frozen: no gradients, eval mode, weights and BatchNorm buffers fixed."""

from dataclasses import replace

import cbd
import torch

TINY = replace(cbd.MINI_VARIANT, backdoored_epochs=1, clean_epochs=1, disentangle=True)


def test_phase_two_leaves_the_backdoored_model_untouched(poisoned_digits) -> None:
    poisoned, _ = poisoned_digits
    small = poisoned.subset(torch.arange(256))
    kw = {"num_classes": 10, "config": TINY, "progress": False}
    after_phase_one = cbd.DEFENSE.train(small, stop_after="backdoored", **kw)
    full = cbd.DEFENSE.train(small, **kw)

    before = after_phase_one.models["backdoored"].state_dict()
    after = full.models["backdoored"].state_dict()
    assert any("running_mean" in name for name in after)  # BatchNorm buffers are compared too
    for name, tensor in before.items():
        assert torch.equal(after[name], tensor), name
    assert not full.models["backdoored"].training
    for parameter in full.models["backdoored"].parameters():
        assert not parameter.requires_grad and parameter.grad is None
    # f_C did train (its BatchNorm statistics and weights moved away from phase 1's copy).
    clean_before = after_phase_one.model.state_dict()
    assert not torch.equal(full.model.state_dict()["fc.weight"], clean_before["fc.weight"])
