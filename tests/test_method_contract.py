"""What every method package promises, checked on each: its ``run`` decides from the images and
labels only (never the true poison flags or labels), and its command line rejects bad input
before any training, leaving no checkpoint behind."""

import importlib
from dataclasses import replace
from pathlib import Path

import abl
import cbd
import pytest
import torch
import trap_replace

# name -> (a one-epoch-per-stage config, the CLI options that make a run that short)
METHODS = {
    "trap_replace": (
        replace(trap_replace.MINI_VARIANT, trap_epochs=1, replace_epochs=1),
        ["--trap-epochs", "1", "--replace-epochs", "1", "--holdout", "0.2"],
    ),
    "abl": (
        replace(abl.MINI_VARIANT, isolation_epochs=1, finetune_epochs=1, unlearning_epochs=1),
        ["--isolation-epochs", "1", "--finetune-epochs", "1", "--unlearning-epochs", "1"],
    ),
    "cbd": (
        replace(cbd.MINI_VARIANT, backdoored_epochs=1, clean_epochs=1, disentangle=True),
        ["--backdoored-epochs", "1", "--clean-epochs", "1"],
    ),
}


@pytest.mark.parametrize("name", METHODS)
def test_training_ignores_the_true_flags_and_labels(name: str, poisoned_digits) -> None:
    poisoned, _ = poisoned_digits
    small = poisoned.subset(torch.arange(256))
    scrambled = replace(
        small,
        is_poison=torch.randperm(256, generator=torch.Generator().manual_seed(1)) < 128,
        y_true=torch.zeros_like(small.y_true),
    )
    run = importlib.import_module(name).run
    kw = {"num_classes": 10, "config": METHODS[name][0], "progress": False}
    if name == "trap_replace":  # the clean holdout is the defender's, not a poison flag
        kw["holdout"] = poisoned.subset(torch.arange(256, 384))
    honest, fooled = run(small, **kw), run(scrambled, **kw)
    for key, tensor in honest.model.state_dict().items():
        assert torch.equal(fooled.model.state_dict()[key], tensor), key


@pytest.mark.parametrize("name", METHODS)
def test_an_unknown_model_fails_before_training(name: str, poisoned_digits, tmp_path) -> None:
    poisoned, _ = poisoned_digits
    run = importlib.import_module(name).run
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        run(
            poisoned,
            num_classes=10,
            config=replace(METHODS[name][0], model="nope"),
            checkpoint_dir=tmp_path,
            **({"holdout": poisoned} if name == "trap_replace" else {}),
        )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["--attack", "nope"], ValueError, "unknown attack 'nope'; valid names: .*badnets-grid"),
        (["--dataset", "nope"], ValueError, "unknown dataset 'nope'; valid names: .*digits"),
        (["--rate", "1.5"], ValueError, r"rate"),
        (["--rate", "0"], ValueError, r"rate"),
        (["--target", "10"], ValueError, r"target"),
        (["--dataset", "cifar10", "--data-root", "MISSING"], FileNotFoundError, "no-data"),
    ],
)
def test_bad_input_fails_before_training(
    name: str, tmp_path: Path, args: list[str], error: type, message: str
) -> None:
    main = importlib.import_module(f"{name}.__main__").main
    args = [a.replace("MISSING", str(tmp_path / "no-data")) for a in args]
    out = tmp_path / "run"
    with pytest.raises(error, match=message):
        main(["--out", str(out), *METHODS[name][1], *args])
    assert not (out / "checkpoints").exists()
