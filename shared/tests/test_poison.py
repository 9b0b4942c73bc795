"""Poisoning a split: selection rules, labels, validation, the disk cache, the ASR test set."""

from pathlib import Path

import numpy as np
import pytest
import torch
from unpoison.attacks import Attack, LabelRule, backdoor_test_set, create, poison
from unpoison.data.split import PoisonedSplit, Split

N = 100  # ten images per class, labels 0..9 repeating


def make_split(n: int = N, seed: int = 0) -> Split:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=generator)
    return Split(x=x, y=torch.arange(n) % 10)


def changed(poisoned: Split, clean: Split) -> torch.Tensor:
    return (poisoned.x != clean.x).flatten(1).any(1)


class Spy(Attack):
    """An all-to-one attack that counts its calls and inverts the images."""

    name = "spy"
    default_label_rule = LabelRule.ALL_TO_ONE

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def _apply(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        self.calls += 1
        return 255 - x


# ---- selection rules ------------------------------------------------------------------------


def test_all_picks_a_seeded_permutation_of_every_image() -> None:
    split = make_split()
    attack = create("badnets-grid")
    result = poison(split, attack, rate=0.2, target=0, seed=3, selection="all")
    assert isinstance(result, PoisonedSplit)
    expected = np.sort(np.random.default_rng(3).permutation(N)[:20])
    assert result.is_poison.nonzero().squeeze(1).tolist() == expected.tolist()
    assert torch.equal(result.y[result.is_poison], torch.zeros(20, dtype=torch.int64))
    assert torch.equal(result.y[~result.is_poison], split.y[~result.is_poison])
    assert torch.equal(result.x[result.is_poison], attack.apply(split.x[result.is_poison]))
    assert torch.equal(changed(result, split), result.is_poison)
    assert torch.equal(result.y_true, split.y)
    assert torch.equal(result.index, torch.arange(N))


def test_all_includes_target_class_picks_with_their_label() -> None:
    split = make_split()
    result = poison(split, create("badnets-grid"), rate=0.5, target=0, seed=0)
    target_picks = result.is_poison & (split.y == 0)
    assert int(result.is_poison.sum()) == 50
    assert int(target_picks.sum()) > 0  # 5 expected; for seed 0 at least one
    assert bool((result.y[target_picks] == 0).all())
    assert torch.equal(changed(result, split), result.is_poison)


def test_non_target_picks_rate_of_the_non_target_images() -> None:
    split = make_split()
    result = poison(split, create("badnets-grid"), rate=0.2, target=4, selection="non-target")
    assert int(result.is_poison.sum()) == 18  # int(0.2 * 90)
    assert not bool((result.is_poison & (split.y == 4)).any())
    assert bool((result.y[result.is_poison] == 4).all())


def test_first_non_target_picks_the_first_images_in_order() -> None:
    split = make_split()
    result = poison(split, create("badnets-grid"), 0.2, target=0, selection="first-non-target")
    picked = result.is_poison.nonzero().squeeze(1).tolist()
    # int(0.2 * 100) = 20 images, skipping the class-0 indices 0, 10 and 20.
    assert picked == [*range(1, 10), *range(11, 20), 21, 22]
    other_seed = poison(split, create("badnets-grid"), 0.2, 0, seed=9, selection="first-non-target")
    assert torch.equal(other_seed.is_poison, result.is_poison)


def test_target_selection_for_clean_label() -> None:
    split = make_split()
    result = poison(split, create("sig"), rate=0.5, target=3, selection="target")
    assert int(result.is_poison.sum()) == 5  # int(0.5 * 10)
    assert bool((split.y[result.is_poison] == 3).all())
    assert torch.equal(result.y, split.y)
    assert torch.equal(changed(result, split), result.is_poison)


def test_first_target_takes_target_images_in_order_up_to_the_count() -> None:
    split = make_split()  # labels i % 10: class 3 at indices 3, 13, ..., 93
    few = poison(split, create("sig"), rate=0.04, target=3, selection="first-target")
    assert few.is_poison.nonzero().squeeze(1).tolist() == [3, 13, 23, 33]  # int(0.04 * 100)
    every = poison(split, create("sig"), rate=0.5, target=3, selection="first-target")
    assert torch.equal(every.is_poison, split.y == 3)  # min(50, 10 target images)
    assert torch.equal(every.y, split.y)


def test_clean_label_with_all_triggers_only_target_class_picks() -> None:
    split = make_split()
    result = poison(split, create("sig"), rate=0.5, target=0, seed=1, selection="all")
    permutation = np.random.default_rng(1).permutation(N)[:50]
    expected = np.sort(permutation[permutation % 10 == 0])
    assert result.is_poison.nonzero().squeeze(1).tolist() == expected.tolist()
    assert torch.equal(result.y, split.y)


def test_all_to_all_labels() -> None:
    split = make_split()
    result = poison(split, create("badnets-square"), rate=0.3, target=0, num_classes=10)
    assert int(result.is_poison.sum()) == 30
    poisoned = result.is_poison
    assert torch.equal(result.y[poisoned], (split.y[poisoned] + 1) % 10)
    assert torch.equal(result.y[~poisoned], split.y[~poisoned])


def test_same_seed_same_poison_other_seed_other_poison() -> None:
    split = make_split()
    first = poison(split, create("blend-strip"), 0.1, 0, seed=5)
    again = poison(split, create("blend-strip"), 0.1, 0, seed=5)
    other = poison(split, create("blend-strip"), 0.1, 0, seed=6)
    assert torch.equal(first.is_poison, again.is_poison) and torch.equal(first.x, again.x)
    assert not torch.equal(first.is_poison, other.is_poison)


# ---- validation happens before any work ------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 0.0}, r"open interval \(0, 1\), got 0.0"),
        ({"rate": 1.0}, r"open interval \(0, 1\), got 1.0"),
        ({"rate": -0.1}, r"open interval \(0, 1\)"),
        ({"rate": True}, r"open interval \(0, 1\)"),
        ({"target": 10}, r"target must be an int in \[0, 9\]"),
        ({"target": -1}, r"target must be an int in \[0, 9\]"),
        ({"num_classes": 5}, r"labels span \[0, 9\], outside \[0, 4\]"),
        ({"selection": "random"}, "unknown selection 'random'; valid: all, non-target"),
        ({"selection": "target"}, "use it with a clean-label attack"),
        ({"selection": "first-target"}, "use it with a clean-label attack"),
        ({"rate": 0.001}, "poisons no image"),
        ({"rate": 0.95, "selection": "first-non-target"}, "needs 95 non-target images"),
        ({"seed": -2}, "seed must be a non-negative int"),
    ],
)
def test_bad_arguments_raise_before_work(kwargs: dict, message: str, tmp_path: Path) -> None:
    spy = Spy()
    args = {"rate": 0.1, "target": 0, "cache_dir": tmp_path} | kwargs
    with pytest.raises(ValueError, match=message):
        poison(make_split(), spy, **args)
    assert spy.calls == 0
    assert list(tmp_path.iterdir()) == []


def test_clean_label_rejects_non_target_selections() -> None:
    with pytest.raises(ValueError, match="clean-label attack"):
        poison(make_split(), create("sig"), 0.1, 0, selection="non-target")


def test_image_shape_is_checked_before_work(tmp_path: Path) -> None:
    small = Split(x=torch.zeros(10, 3, 6, 6, dtype=torch.uint8), y=torch.arange(10))
    with pytest.raises(ValueError, match="at least 7x7 pixels, got 6x6"):
        poison(small, create("trojan-3x3"), 0.5, 0, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


# ---- cache ----------------------------------------------------------------------------------


def test_cache_round_trip_does_not_recompute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    split = make_split()
    attack = create("blend-strip")
    first = poison(split, attack, 0.2, 0, seed=2, cache_dir=tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".safetensors"

    def fail(x: torch.Tensor, train: bool = True) -> torch.Tensor:
        raise AssertionError("the cached poison was recomputed")

    monkeypatch.setattr(attack, "apply", fail)
    second = poison(split, attack, 0.2, 0, seed=2, cache_dir=tmp_path)
    for field in ("x", "y", "y_true", "is_poison", "index"):
        assert torch.equal(getattr(second, field), getattr(first, field)), field
        assert getattr(second, field).dtype == getattr(first, field).dtype, field


def test_cache_key_covers_every_input(tmp_path: Path) -> None:
    split = make_split()
    poison(split, create("blend-strip"), 0.2, 0, cache_dir=tmp_path)
    poison(split, create("blend-strip"), 0.2, 0, seed=1, cache_dir=tmp_path)
    poison(split, create("blend-strip"), 0.3, 0, cache_dir=tmp_path)
    poison(split, create("blend-strip"), 0.2, 1, cache_dir=tmp_path)
    poison(split, create("blend-strip", alpha=0.1), 0.2, 0, cache_dir=tmp_path)
    poison(split, create("blend-random"), 0.2, 0, cache_dir=tmp_path)
    poison(split, create("blend-strip"), 0.2, 0, selection="non-target", cache_dir=tmp_path)
    poison(make_split(seed=1), create("blend-strip"), 0.2, 0, cache_dir=tmp_path)
    names = sorted(path.name for path in tmp_path.iterdir())
    assert len(names) == 8
    assert all(name.startswith("poison-") and name.endswith(".safetensors") for name in names)


# ---- ASR test set ---------------------------------------------------------------------------


def test_backdoor_test_set_all_to_one() -> None:
    test = make_split(50)
    attack = create("badnets-grid")
    bd = backdoor_test_set(test, attack, target=2, num_classes=10)
    assert len(bd) == 45
    assert bool((bd.y == 2).all())
    assert torch.equal(bd.x, attack.apply(test.x[test.y != 2]))


def test_backdoor_test_set_all_to_all() -> None:
    test = make_split(50)
    attack = create("badnets-square")
    bd = backdoor_test_set(test, attack, target=0, num_classes=10)
    assert len(bd) == 50
    assert torch.equal(bd.y, (test.y + 1) % 10)
    assert torch.equal(bd.x, attack.apply(test.x))


def test_backdoor_test_set_clean_label_uses_the_test_trigger() -> None:
    test = make_split(50)
    attack = create("sig")
    bd = backdoor_test_set(test, attack, target=0, num_classes=10)
    assert len(bd) == 45 and bool((bd.y == 0).all())
    assert torch.equal(bd.x, attack.apply(test.x[test.y != 0], train=False))
    assert not torch.equal(bd.x, attack.apply(test.x[test.y != 0], train=True))


def test_backdoor_test_set_rejects_bad_target() -> None:
    with pytest.raises(ValueError, match=r"target must be an int in \[0, 9\]"):
        backdoor_test_set(make_split(50), create("badnets-grid"), target=10, num_classes=10)
