"""Poisoning a training split, and the triggered test set that measures the attack success rate.

Which images get poisoned differs between the official codebases for the same nominal rate
(docs/attacks.md §3); ``selection`` names each rule:

- ``"all"`` (ABL, NAD, CBD): ``int(rate * N)`` random images of any class. Target-class picks are
  triggered and keep their (already target) label. With a clean-label attack only the target-class
  picks are triggered, as ABL's `cleanLabel` mode does, so about ``rate * N_target`` images are.
- ``"non-target"`` (D-ST/D-BR all-to-one): ``int(rate * N_nontarget)`` random non-target images.
- ``"first-non-target"`` (T&R dirty-label): the first ``int(rate * N)`` non-target images in index
  order.
- ``"first-target"`` (T&R clean-label): the first ``min(int(rate * N), N_target)`` target-class
  images in index order; at T&R's 10% of CIFAR-10 that is every target-class image.
- ``"target"`` (D-ST/D-BR clean-label): ``int(rate * N_target)`` random target-class images.

Randomness: the picks are the first ones of ``numpy.random.default_rng(seed).permutation`` over
the eligible images, so a seed gives the same poison on every machine. (The official codes use the
legacy global numpy generator, seeded only in D-ST, so their exact picks are not reproduced.)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from unpoison.atomic import save_tensors_atomic
from unpoison.attacks.base import Attack, LabelRule
from unpoison.data.split import PoisonedSplit, Split

SELECTIONS = ("all", "non-target", "first-non-target", "target", "first-target")

# Bump when the poisoning code changes its output, so that stale cache files are not reused.
_CACHE_FORMAT = 1
_CACHED_FIELDS = ("x", "y", "y_true", "is_poison", "index")


def check_rate(rate: float) -> None:
    """ValueError unless ``rate`` is a number in the open interval (0, 1)."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < 1:
        raise ValueError(f"poison rate must be a number in the open interval (0, 1), got {rate!r}")


def check_selection(selection: str) -> None:
    """ValueError unless ``selection`` is one of ``SELECTIONS``."""
    if selection not in SELECTIONS:
        raise ValueError(f"unknown selection {selection!r}; valid: {', '.join(SELECTIONS)}")


def poison(
    split: Split,
    attack: Attack,
    rate: float,
    target: int,
    seed: int = 0,
    selection: str = "all",
    num_classes: int | None = None,
    cache_dir: Path | None = None,
    rate_base: int | None = None,
) -> PoisonedSplit:
    """Trigger and relabel a ``rate`` fraction of ``split`` (see the module docstring for rules).

    ``num_classes`` defaults to ``max(y) + 1``; pass it when the split may miss the last class
    (it sets the all-to-all label ``(y + 1) mod K``). With ``cache_dir`` the result is stored
    there as a safetensors file named by a content hash of every input, and loaded on later calls.
    ``rate_base`` (first-* selections only) is the number of images ``rate`` is a fraction of,
    when that is not this split: T&R counts its poison against the whole training set before its
    holdout is cut off (docs/attacks.md §3.3). All arguments are checked before any work is done.
    """
    if len(split) == 0:
        raise ValueError("cannot poison an empty split")
    if num_classes is None:
        num_classes = int(split.y.max()) + 1
    _check_labels(split.y, target, num_classes)
    check_rate(rate)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if rate_base is not None and (
        not selection.startswith("first-") or isinstance(rate_base, bool) or rate_base < len(split)
    ):
        raise ValueError(
            f"rate_base must be an int >= the split's {len(split)} images and is only for the "
            f"first-* selections, got {rate_base!r} with selection {selection!r}"
        )
    base = len(split) if rate_base is None else rate_base
    is_poison = select_poison(split.y, attack.label_rule, rate, target, seed, selection, base)
    attack.check_image_shape(*split.image_shape)

    path = None
    if cache_dir is not None:
        key = {
            "format": _CACHE_FORMAT,
            "attack": attack.name,
            "params": attack.params(),
            "rate": rate,
            "target": target,
            "seed": seed,
            "selection": selection,
            "num_classes": num_classes,
            "rate_base": base,
        }
        path = Path(cache_dir) / f"poison-{content_hash(split, key)}.safetensors"
        if path.is_file():
            return _load(path, split.x.device)

    poisoned_x, poisoned_y = attack.poisoned_images(split, is_poison, target, num_classes, seed)
    result = PoisonedSplit(
        x=poisoned_x,
        y=poisoned_y,
        y_true=split.y.clone(),
        is_poison=is_poison,
        index=torch.arange(len(split), device=split.y.device),
    )
    if path is not None:
        _save(result, path, key)
    return result


def backdoor_test_set(test: Split, attack: Attack, target: int, num_classes: int) -> Split:
    """The set on which the attack success rate is measured (``Attack.backdoor_test``)."""
    _check_labels(test.y, target, num_classes)
    return attack.backdoor_test(test, target, num_classes)


def check_target(target: int, num_classes: int) -> None:
    """ValueError unless ``target`` is one of ``num_classes`` (an int >= 2) classes."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < num_classes:
        raise ValueError(
            f"target must be an int in [0, {num_classes - 1}] (num_classes={num_classes}), "
            f"got {target!r}"
        )


def _check_labels(y: torch.Tensor, target: int, num_classes: int) -> None:
    check_target(target, num_classes)
    if len(y) > 0 and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"labels span [{int(y.min())}, {int(y.max())}], outside [0, {num_classes - 1}]; "
            "pass the dataset's num_classes"
        )


def select_poison(
    y: torch.Tensor,
    rule: LabelRule,
    rate: float,
    target: int,
    seed: int,
    selection: str,
    base: int,
) -> torch.Tensor:
    """The boolean mask, on the device of ``y``, of the images ``poison`` triggers for labels
    ``y`` (rules in the module docstring); ``rate`` is a fraction of ``base`` images."""
    check_selection(selection)
    clean_label = rule is LabelRule.CLEAN_LABEL
    if clean_label and selection not in ("all", "target", "first-target"):
        raise ValueError(
            f"selection {selection!r} triggers only non-target images, which a clean-label attack "
            "leaves with their own label; use 'target', 'first-target' (or 'all')"
        )
    if not clean_label and selection in ("target", "first-target"):
        raise ValueError(
            f"selection {selection!r} picks only target-class images, which a {rule.value} attack "
            "cannot usefully relabel; use it with a clean-label attack"
        )
    labels = y.cpu().numpy()
    if selection == "first-non-target":
        non_target = np.flatnonzero(labels != target)
        count = int(rate * base)  # T&R: a fraction of the whole training set
        if count > len(non_target):
            raise ValueError(
                f"first-non-target needs {count} non-target images but the split has "
                f"{len(non_target)}; lower the rate"
            )
        picked = non_target[:count]
    elif selection == "first-target":
        # T&R: N = min(int(rate * N_split), N_target), taken in index order (docs/attacks.md §3.3)
        picked = np.flatnonzero(labels == target)[: int(rate * base)]
    else:
        eligible = {
            "all": np.arange(len(labels)),
            "non-target": np.flatnonzero(labels != target),
            "target": np.flatnonzero(labels == target),
        }[selection]
        count = int(rate * len(eligible))
        picked = eligible[np.random.default_rng(seed).permutation(len(eligible))[:count]]
        if clean_label:
            picked = picked[labels[picked] == target]
    if len(picked) == 0:
        raise ValueError(
            f"rate {rate} with selection {selection!r} poisons no image of this split "
            f"({len(labels)} images); raise the rate"
        )
    mask = np.zeros(len(labels), dtype=bool)
    mask[picked] = True
    return torch.from_numpy(mask).to(y.device)


def content_hash(split: Split, key: dict) -> str:
    """sha256 of the poisoning arguments and of the split's image and label bytes."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode())
    for tensor in (split.x, split.y):
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy())
    return digest.hexdigest()


def _save(result: PoisonedSplit, path: Path, key: dict) -> None:
    tensors = {name: getattr(result, name) for name in _CACHED_FIELDS}
    save_tensors_atomic(path, tensors, metadata={"key": json.dumps(key, sort_keys=True)})


def _load(path: Path, device: torch.device) -> PoisonedSplit:
    tensors = load_file(path)
    missing = sorted(set(_CACHED_FIELDS) - set(tensors))
    if missing:
        raise ValueError(f"poison cache file {path} lacks {', '.join(missing)}; delete it")
    return PoisonedSplit(**{name: tensors[name] for name in _CACHED_FIELDS}).to(device)
