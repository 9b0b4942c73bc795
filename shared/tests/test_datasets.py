"""Dataset registry and readers: digits exactly as docs/evaluation.md §1.1 defines it, the
torchvision readers on fake files in their on-disk formats, the image-folder subset, and the
missing-data errors."""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits
from torchvision import datasets as tv
from unpoison.data import list_datasets, load

# ---------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_classes() -> None:
    ds = load("digits")
    assert ds.train.x.shape == (1437, 3, 32, 32)
    assert ds.test.x.shape == (360, 3, 32, 32)
    assert ds.train.x.dtype == torch.uint8 and ds.train.y.dtype == torch.int64
    assert ds.classes == tuple("0123456789")
    assert torch.equal(ds.train.x[:, 0], ds.train.x[:, 1])
    assert torch.equal(ds.train.x[:, 0], ds.train.x[:, 2])
    assert torch.equal(ds.test.x[:, 1], ds.test.x[:, 2])


def test_digits_pixels_match_the_definition() -> None:
    bunch = load_digits()
    perm = np.random.default_rng(0).permutation(1797)
    ds = load("digits")
    for split, position, original in [
        (ds.train, 0, perm[0]),
        (ds.train, 700, perm[700]),
        (ds.test, 0, perm[1437]),
        (ds.test, 359, perm[1796]),
    ]:
        small = bunch.images[original]
        expected = [[round(small[r // 4][c // 4] * 255 / 16) for c in range(32)] for r in range(32)]
        assert split.x[position, 0].tolist() == expected
        assert split.y[position].item() == bunch.target[original]


def test_digits_values_are_the_rounded_sixteenths() -> None:
    # k * 255 / 16 for k = 0..16, rounded by hand (k = 8 gives 127.5 -> 128)
    by_hand = {0, 16, 32, 48, 64, 80, 96, 112, 128, 143, 159, 175, 191, 207, 223, 239, 255}
    assert set(load("digits").train.x.unique().tolist()) == by_hand


def test_digits_is_deterministic() -> None:
    a, b = load("digits"), load("digits")
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)


# ---------------------------------------------------------------- registry


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="cifar10, cifar100, digits, gtsrb, imagenet-subset"):
        load("cifar-11")


def test_list_datasets() -> None:
    assert list_datasets() == ["cifar10", "cifar100", "digits", "gtsrb", "imagenet-subset"]


# ---------------------------------------------------------------- CIFAR on fake files


class Py2Pickler(pickle._Pickler):
    """Pickles ``bytes`` as Python 2 ``str``, as the real CIFAR files were written.

    Such a file loads with byte keys (``b"data"``) under ``encoding="bytes"`` and with str keys
    under torchvision's ``encoding="latin1"``, exactly like the files from the CIFAR site.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def _write_py2(path: Path, obj: dict) -> str:
    with open(path, "wb") as f:
        Py2Pickler(f, protocol=2).dump(obj)
    return hashlib.md5(path.read_bytes()).hexdigest()


def _fake_cifar(root: Path, cls: type[tv.CIFAR10], monkeypatch: pytest.MonkeyPatch) -> dict:
    """Write a few-image CIFAR folder and point the class's md5 table at the fake files."""
    rng = np.random.default_rng(1)
    folder = root / cls.base_folder
    folder.mkdir(parents=True)
    label_key = b"labels" if cls is tv.CIFAR10 else b"fine_labels"
    written: dict[str, tuple[np.ndarray, list[int]]] = {}
    md5s = {}
    for name, _ in cls.train_list + cls.test_list:
        n = 3
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        batch = {b"batch_label": name.encode(), label_key: labels, b"data": data}
        batch[b"filenames"] = [f"{name}_{i}.png".encode() for i in range(n)]
        md5s[name] = _write_py2(folder / name, batch)
        written[name] = (data, labels)
    names = [f"class{c}".encode() for c in range(10)]
    meta_md5 = _write_py2(folder / cls.meta["filename"], {cls.meta["key"].encode(): names})
    monkeypatch.setattr(cls, "train_list", [[f, md5s[f]] for f, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[f, md5s[f]] for f, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": meta_md5})
    return written


@pytest.mark.parametrize(("name", "cls"), [("cifar10", tv.CIFAR10), ("cifar100", tv.CIFAR100)])
def test_cifar_reader_on_fake_files(
    name: str, cls: type[tv.CIFAR10], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _fake_cifar(tmp_path, cls, monkeypatch)
    ds = load(name, root=tmp_path)
    train_files = [f for f, _ in cls.train_list]
    train_data = np.concatenate([written[f][0] for f in train_files])
    assert ds.train.x.shape == (3 * len(train_files), 3, 32, 32)
    assert ds.train.x.dtype == torch.uint8 and ds.train.y.dtype == torch.int64
    # CIFAR rows are 1024 red, 1024 green, 1024 blue values, each plane row-major.
    for i, c, r, col in [(0, 0, 0, 0), (1, 2, 31, 5), (len(train_data) - 1, 1, 7, 31)]:
        assert ds.train.x[i, c, r, col].item() == train_data[i, c * 1024 + r * 32 + col]
    assert torch.equal(ds.train.x.reshape(len(train_data), -1), torch.from_numpy(train_data))
    assert ds.train.y.tolist() == [v for f in train_files for v in written[f][1]]
    test_data, test_labels = written[cls.test_list[0][0]]
    assert torch.equal(ds.test.x.reshape(3, -1), torch.from_numpy(test_data))
    assert ds.test.y.tolist() == test_labels
    assert ds.classes == tuple(f"class{c}" for c in range(10))


def test_cifar_missing_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        load("cifar10", root=tmp_path)
    assert str(tmp_path / "cifar-10-batches-py") in str(err.value)
    assert "download=True" in str(err.value) and tv.CIFAR10.url in str(err.value)


def test_cifar_without_root_says_to_pass_one() -> None:
    with pytest.raises(FileNotFoundError, match="root is None: pass root=DIR"):
        load("cifar100")


def test_cifar_corrupted_files_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(b"truncated")
    with pytest.raises(FileNotFoundError, match="missing or corrupted"):
        load("cifar10", root=tmp_path)


# ---------------------------------------------------------------- GTSRB on fake files


def _write_ppm(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_gtsrb_resizes_caches_and_reloads(tmp_path: Path) -> None:
    base = tmp_path / "gtsrb"
    training = base / "GTSRB" / "Training"
    _write_ppm(training / "00000" / "00000_00000.ppm", (40, 35), (10, 20, 30))
    _write_ppm(training / "00000" / "00000_00001.ppm", (29, 31), (40, 50, 60))
    _write_ppm(training / "00001" / "00001_00000.ppm", (52, 61), (70, 80, 90))
    (training / "00000" / "GT-00000.csv").write_text("annotations, not an image\n")
    gradient = np.tile(np.arange(0, 250, 5, dtype=np.uint8), (45, 1))
    gradient_image = Image.fromarray(np.stack([gradient] * 3, axis=2))
    (base / "GTSRB" / "Final_Test" / "Images").mkdir(parents=True)
    gradient_image.save(base / "GTSRB" / "Final_Test" / "Images" / "00000.ppm")
    _write_ppm(base / "GTSRB" / "Final_Test" / "Images" / "00001.ppm", (33, 33), (1, 2, 3))
    (base / "GT-final_test.csv").write_text(
        "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
        "00000.ppm;50;45;5;5;45;40;7\n"
        "00001.ppm;33;33;5;5;28;28;42\n"
    )
    ds = load("gtsrb", root=tmp_path)
    assert ds.train.x.shape == (3, 3, 32, 32) and ds.test.x.shape == (2, 3, 32, 32)
    assert ds.train.y.tolist() == [0, 0, 1] and ds.test.y.tolist() == [7, 42]
    assert ds.num_classes == 43
    for i, colour in enumerate([(10, 20, 30), (40, 50, 60), (70, 80, 90)]):
        assert ds.train.x[i].amin(dim=(1, 2)).tolist() == list(colour)
        assert ds.train.x[i].amax(dim=(1, 2)).tolist() == list(colour)
    resized = np.array(gradient_image.resize((32, 32), Image.Resampling.BILINEAR))
    assert torch.equal(ds.test.x[0], torch.from_numpy(resized).permute(2, 0, 1))
    cached = sorted(p.name for p in base.glob("*.npz"))
    assert cached == ["unpoison_test_32x32_bilinear.npz", "unpoison_train_32x32_bilinear.npz"]
    for image in training.rglob("*.ppm"):
        image.unlink()  # the second load must come from the cache
    again = load("gtsrb", root=tmp_path)
    assert torch.equal(again.train.x, ds.train.x) and torch.equal(again.test.y, ds.test.y)


def test_gtsrb_missing_folder_names_the_path_and_url(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        load("gtsrb", root=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "gtsrb" / "GTSRB" / "Training") in message
    assert "GTSRB-Training_fixed.zip" in message and "download=True" in message


# ---------------------------------------------------------------- imagenet-subset


def _fake_image_folder(root: Path) -> dict[str, tuple[int, int, int]]:
    colours = {"n01": (255, 0, 0), "n02": (0, 255, 0), "n03": (0, 0, 255)}
    sizes = [(20, 13), (9, 30), (17, 17)]
    for split, count in [("train", 3), ("val", 1)]:
        for name, colour in colours.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for k in range(count):
                Image.new("RGB", sizes[k], colour).save(folder / f"img{k}.png")
            (folder / "notes.txt").write_text("not an image")
    return colours


def test_imagenet_subset_reads_the_chosen_classes(tmp_path: Path) -> None:
    colours = _fake_image_folder(tmp_path)
    ds = load("imagenet-subset", root=tmp_path, classes=["n03", "n01"], image_size=8)
    assert ds.classes == ("n01", "n03")  # sorted, as ImageFolder numbers classes
    assert ds.train.x.shape == (6, 3, 8, 8) and ds.test.x.shape == (2, 3, 8, 8)
    assert ds.train.y.tolist() == [0, 0, 0, 1, 1, 1] and ds.test.y.tolist() == [0, 1]
    for split in (ds.train, ds.test):
        for image, label in zip(split.x, split.y.tolist(), strict=True):
            expected = torch.tensor(colours[ds.classes[label]], dtype=torch.uint8)
            assert torch.equal(image, expected[:, None, None].expand(3, 8, 8))


def test_imagenet_subset_class_list_file_and_default(tmp_path: Path) -> None:
    _fake_image_folder(tmp_path)
    listing = tmp_path / "classes.txt"
    listing.write_text("n02 second class\n\nn01 first class\n")
    ds = load("imagenet-subset", root=tmp_path, classes=listing, image_size=4)
    assert ds.classes == ("n01", "n02") and len(ds.train) == 6
    assert load("imagenet-subset", root=tmp_path, image_size=4).classes == ("n01", "n02", "n03")


def test_imagenet_subset_missing_folders_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        load("imagenet-subset", root=tmp_path, classes=["n01"])
    assert str(tmp_path / "train") in str(err.value) and "root/train/<class>" in str(err.value)
    _fake_image_folder(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        load("imagenet-subset", root=tmp_path, classes=["n01", "n09"], image_size=4)
    assert str(tmp_path / "train" / "n09") in str(err.value)
