"""What every method package promises, checked on each: its ``run`` decides from the images and
labels only (never the true poison flags or labels), and its command line rejects bad input
before any training, leaving no checkpoint behind."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import abl
import cbd
import dst_dbr
import pytest
import torch
import trap_replace


@dataclass(frozen=True)
class Method:
    """A method's ``run`` module, a one-epoch-per-stage config, the CLI arguments that make a run
    that short, and how its config names an unknown model."""

    module: str  # holds ``run``
    cli: str  # holds ``main``
    config: Any
    args: list[str]
    unknown_model: Callable[[Any], Any] = lambda config: replace(config, model="nope")


_DBR = dst_dbr.MINI_DBR
_DST = dst_dbr.MINI_DST
_SD = replace(_DST.sd, train_epochs=1, finetune_epochs=1)
METHODS = {
    "trap_replace": Method(
        "trap_replace",
        "trap_replace.__main__",
        replace(trap_replace.MINI_VARIANT, trap_epochs=1, replace_epochs=1),
        ["--trap-epochs", "1", "--replace-epochs", "1", "--holdout", "0.2"],
    ),
    "abl": Method(
        "abl",
        "abl.__main__",
        replace(abl.MINI_VARIANT, isolation_epochs=1, finetune_epochs=1, unlearning_epochs=1),
        ["--isolation-epochs", "1", "--finetune-epochs", "1", "--unlearning-epochs", "1"],
    ),
    "cbd": Method(
        "cbd",
        "cbd.__main__",
        replace(cbd.MINI_VARIANT, backdoored_epochs=1, clean_epochs=1, disentangle=True),
        ["--backdoored-epochs", "1", "--clean-epochs", "1"],
    ),
    "d-st": Method(
        "dst_dbr.dst",
        "dst_dbr.__main__",
        replace(
            _DST,
            sd=_SD,
            st=replace(_DST.st, extractor_epochs=1, warmup_epochs=0, classifier_epochs=1),
        ),
        ["d-st", "--mini"],
        lambda config: replace(config, st=replace(config.st, model="nope")),
    ),
    "d-br": Method(
        "dst_dbr.dbr",
        "dst_dbr.__main__",
        replace(
            _DBR,
            backdoored=replace(_DBR.backdoored, epochs=1, milestones=()),
            sd=_SD,
            br=replace(_DBR.br, epochs=1),
        ),
        ["d-br", "--mini"],
        lambda config: replace(config, backdoored=replace(config.backdoored, model="nope")),
    ),
}


@pytest.mark.parametrize("name", METHODS)
def test_training_ignores_the_true_flags_and_labels(name: str, poisoned_digits) -> None:
    poisoned, _ = poisoned_digits
    small = poisoned.subset(torch.arange(128))
    scrambled = replace(
        small,
        is_poison=torch.randperm(128, generator=torch.Generator().manual_seed(1)) < 64,
        y_true=torch.zeros_like(small.y_true),
    )
    run = importlib.import_module(METHODS[name].module).run
    kw = {"num_classes": 10, "config": METHODS[name].config, "progress": False}
    if name == "trap_replace":  # the clean holdout is the defender's, not a poison flag
        kw["holdout"] = poisoned.subset(torch.arange(128, 192))
    honest, fooled = run(small, **kw), run(scrambled, **kw)
    for key, tensor in honest.model.state_dict().items():
        assert torch.equal(fooled.model.state_dict()[key], tensor), key


@pytest.mark.parametrize("name", METHODS)
def test_an_unknown_model_fails_before_training(name: str, poisoned_digits, tmp_path) -> None:
    poisoned, _ = poisoned_digits
    method = METHODS[name]
    run = importlib.import_module(method.module).run
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        run(
            poisoned,
            num_classes=10,
            config=method.unknown_model(method.config),
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
    main = importlib.import_module(METHODS[name].cli).main
    args = [a.replace("MISSING", str(tmp_path / "no-data")) for a in args]
    out = tmp_path / "run"
    with pytest.raises(error, match=message):
        main([*METHODS[name].args, "--out", str(out), *args])
    assert not (out / "checkpoints").exists()
