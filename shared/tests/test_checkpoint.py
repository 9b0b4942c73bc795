"""checkpoint: exact round trips (weights, BN buffers, momentum, RNG), resumed training, and the
on-disk format (safetensors + latest.json only, atomic replacement, crash leftovers ignored)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn
from unpoison.train import checkpoint as checkpoint_module
from unpoison.train.checkpoint import LATEST, Checkpointer

PICKLE_MAGIC = b"\x80"  # every pickle protocol >= 2 starts with the PROTO opcode


def _model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Dropout(0.5),  # draws from the global torch RNG, so resumed training needs its state
        nn.Flatten(),
        nn.Linear(4 * 5 * 5, 3),
    )
    return model.to(memory_format=torch.channels_last)


def _sgd(model: nn.Module) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)


def _batches(count: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [
        (torch.rand(6, 3, 5, 5, generator=g), torch.randint(0, 3, (6,), generator=g))
        for _ in range(count)
    ]


def _train(model: nn.Module, optimizer: torch.optim.Optimizer, batches: list) -> None:
    model.train()
    for x, y in batches:
        loss = F.cross_entropy(model(x.contiguous(memory_format=torch.channels_last)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _trained(seed: int = 0) -> tuple[nn.Module, torch.optim.SGD]:
    model = _model(seed)
    optimizer = _sgd(model)
    _train(model, optimizer, _batches(3, seed=10))
    return model, optimizer


def _assert_same_state(a: nn.Module, b: nn.Module) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert list(state_a) == list(state_b)
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name


def _save(
    checkpointer: Checkpointer, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int
) -> None:
    checkpointer.save(
        stage="train",
        epoch=epoch,
        modules={"model": model},
        optimizers={"sgd": optimizer},
        tensors={"scores": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7},
        state={"best": 0.5, "history": [1, 2], "name": "x"},
    )


# ---------------------------------------------------------------- round trip


def test_round_trip_restores_weights_buffers_momentum_rng_and_extras(tmp_path) -> None:
    model, optimizer = _trained()
    checkpointer = Checkpointer(tmp_path)
    rng_at_save = torch.get_rng_state()
    _save(checkpointer, model, optimizer, epoch=3)
    torch.rand(100)  # move the RNG on, so that restore has to put it back

    fresh = _model(seed=99)
    fresh_optimizer = _sgd(fresh)
    saved = checkpointer.load()
    assert saved is not None
    saved.restore({"model": fresh}, {"sgd": fresh_optimizer})

    assert (saved.stage, saved.epoch) == ("train", 3)
    assert saved.state == {"best": 0.5, "history": [1, 2], "name": "x"}
    assert torch.equal(saved.tensor("scores"), torch.arange(6.0).reshape(2, 3) / 7)
    _assert_same_state(model, fresh)
    assert fresh[1].num_batches_tracked.item() == 3
    assert torch.equal(torch.get_rng_state(), rng_at_save)

    original_state = optimizer.state_dict()
    restored_state = fresh_optimizer.state_dict()
    assert restored_state["param_groups"] == original_state["param_groups"]
    assert set(restored_state["state"]) == set(original_state["state"]) == set(range(6))
    for param_id, values in original_state["state"].items():
        assert torch.equal(
            restored_state["state"][param_id]["momentum_buffer"], values["momentum_buffer"]
        )
    # the momentum buffers live on the fresh parameters, not on the original ones
    first_param = next(fresh.parameters())
    assert fresh_optimizer.state[first_param]["momentum_buffer"].shape == first_param.shape


def test_restore_keeps_the_channels_last_layout(tmp_path) -> None:
    model, optimizer = _trained()
    checkpointer = Checkpointer(tmp_path)
    _save(checkpointer, model, optimizer, epoch=1)
    fresh = _model(seed=5)
    checkpointer.load().restore({"model": fresh})
    assert fresh[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_training_after_restore_is_bit_identical_to_continuing(tmp_path) -> None:
    model, optimizer = _trained()
    checkpointer = Checkpointer(tmp_path)
    _save(checkpointer, model, optimizer, epoch=1)
    later = _batches(4, seed=20)
    _train(model, optimizer, later)  # the original continues (dropout draws from the RNG)

    torch.manual_seed(1234)  # a different RNG position, undone by restore
    fresh = _model(seed=7)
    fresh_optimizer = _sgd(fresh)
    checkpointer.load().restore({"model": fresh}, {"sgd": fresh_optimizer})
    _train(fresh, fresh_optimizer, later)
    _assert_same_state(model, fresh)


def test_several_modules_and_optimizers_keep_their_names(tmp_path) -> None:
    first, first_optimizer = _trained(seed=0)
    second, second_optimizer = _trained(seed=1)
    checkpointer = Checkpointer(tmp_path)
    checkpointer.save(
        stage="s",
        epoch=0,
        modules={"a": first, "b": second},
        optimizers={"a": first_optimizer, "b": second_optimizer},
    )
    new_a, new_b = _model(seed=3), _model(seed=4)
    opt_a, opt_b = _sgd(new_a), _sgd(new_b)
    saved = checkpointer.load()
    saved.restore({"b": new_b, "a": new_a}, {"b": opt_b, "a": opt_a})
    _assert_same_state(first, new_a)
    _assert_same_state(second, new_b)
    assert saved.state == {}
    for original, restored in ((first_optimizer, opt_a), (second_optimizer, opt_b)):
        for (_, values), (_, restored_values) in zip(
            original.state_dict()["state"].items(),
            restored.state_dict()["state"].items(),
            strict=True,
        ):
            assert torch.equal(values["momentum_buffer"], restored_values["momentum_buffer"])


# ---------------------------------------------------------------- files on disk


def test_load_returns_none_without_a_checkpoint(tmp_path) -> None:
    assert Checkpointer(tmp_path).load() is None
    assert Checkpointer(tmp_path / "not-created-yet").load() is None


def test_a_new_checkpoint_replaces_the_previous_one(tmp_path) -> None:
    model, optimizer = _trained()
    checkpointer = Checkpointer(tmp_path / "run")
    _save(checkpointer, model, optimizer, epoch=1)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        LATEST,
        "train-epoch0001.safetensors",
    ]
    _train(model, optimizer, _batches(1, seed=30))
    _save(checkpointer, model, optimizer, epoch=2)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        LATEST,
        "train-epoch0002.safetensors",
    ]
    record = json.loads((tmp_path / "run" / LATEST).read_text())
    assert record["weights"] == "train-epoch0002.safetensors"
    assert (record["stage"], record["epoch"]) == ("train", 2)
    fresh = _model(seed=8)
    checkpointer.load().restore({"model": fresh})
    _assert_same_state(model, fresh)


def test_no_file_is_a_pickle(tmp_path) -> None:
    model, optimizer = _trained()
    _save(Checkpointer(tmp_path), model, optimizer, epoch=1)
    for path in tmp_path.iterdir():
        assert not path.read_bytes().startswith(PICKLE_MAGIC), path.name
    json.loads((tmp_path / LATEST).read_text())
    tensors = load_file(str(tmp_path / "train-epoch0001.safetensors"))
    assert torch.equal(tensors["module.model.0.weight"], model[0].weight.detach())
    assert torch.equal(tensors["extra.scores"], torch.arange(6.0).reshape(2, 3) / 7)
    assert torch.equal(tensors["rng.cpu"], torch.get_rng_state())
    momentum_keys = sorted(k for k in tensors if k.startswith("optimizer.sgd."))
    assert momentum_keys == [f"optimizer.sgd.{i}.momentum_buffer" for i in range(6)]


def test_leftover_temporary_files_do_not_affect_load(tmp_path) -> None:
    model, optimizer = _trained()
    checkpointer = Checkpointer(tmp_path)
    _save(checkpointer, model, optimizer, epoch=2)
    (tmp_path / ".train-epoch0003.safetensors.tmp").write_bytes(b"\x00garbage\xff" * 10)
    (tmp_path / f".{LATEST}.tmp").write_text('{"epoch": 3, "weigh')
    (tmp_path / ".something.tmp").write_bytes(b"not a checkpoint")
    saved = checkpointer.load()
    assert (saved.stage, saved.epoch) == ("train", 2)
    fresh = _model(seed=9)
    saved.restore({"model": fresh})
    _assert_same_state(model, fresh)


def _crash_writing_half_a_file(tensors: dict, filename: str) -> None:
    with open(filename, "wb") as handle:
        handle.write(b"half a file")
    raise KeyboardInterrupt


def _crash(*args: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("step", "crash"),
    [("save_file", _crash_writing_half_a_file), ("write_json_atomic", _crash)],
    ids=["while-writing-weights", "before-latest-json"],
)
def test_a_crash_keeps_the_previous_checkpoint(tmp_path, monkeypatch, step, crash) -> None:
    model, optimizer = _trained()
    checkpointer = Checkpointer(tmp_path)
    _save(checkpointer, model, optimizer, epoch=1)
    saved_state = {k: v.clone() for k, v in model.state_dict().items()}

    monkeypatch.setattr(checkpoint_module, step, crash)
    _train(model, optimizer, _batches(1, seed=40))
    with pytest.raises(KeyboardInterrupt):
        _save(checkpointer, model, optimizer, epoch=2)
    monkeypatch.undo()

    saved = checkpointer.load()
    assert saved.epoch == 1
    fresh = _model(seed=11)
    saved.restore({"model": fresh})
    for name, value in fresh.state_dict().items():
        assert torch.equal(value, saved_state[name]), name


@pytest.mark.parametrize("weights", ["../other/train-epoch0001.safetensors", "/tmp/x.safetensors"])
def test_a_latest_json_naming_a_file_outside_its_folder_is_refused(tmp_path, weights) -> None:
    model, optimizer = _trained()
    checkpointer = Checkpointer(tmp_path / "run")
    _save(checkpointer, model, optimizer, epoch=1)
    outside = tmp_path / "other"
    outside.mkdir()
    (outside / "train-epoch0001.safetensors").write_bytes(
        (tmp_path / "run" / "train-epoch0001.safetensors").read_bytes()
    )
    record = json.loads((tmp_path / "run" / LATEST).read_text())
    (tmp_path / "run" / LATEST).write_text(json.dumps({**record, "weights": weights}))
    with pytest.raises(ValueError, match="outside its run folder"):
        checkpointer.load()
