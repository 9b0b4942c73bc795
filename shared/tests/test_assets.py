"""Trigger-file assets: manifest, checked lookup, clear errors, verified download, CLI."""

import hashlib
import io
from pathlib import Path

import pytest
from unpoison.assets import (
    MANIFEST,
    AssetFile,
    MissingAssetError,
    asset_path,
    fetch,
    read_array,
    read_image,
)
from unpoison.assets.__main__ import main

PAYLOAD = b"a trigger file"


class FakeOpener:
    """Serves fixed bytes for every URL and records the URLs asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.urls: list[str] = []

    def open(self, url: str, timeout: float) -> io.BytesIO:
        self.urls.append(url)
        return io.BytesIO(self.data)


@pytest.fixture
def fake_asset(monkeypatch: pytest.MonkeyPatch) -> AssetFile:
    """A manifest entry whose content is PAYLOAD."""
    info = AssetFile(
        name="test_source/trigger.bin",
        repo="owner/repo",
        commit="0" * 40,
        path="triggers/trigger.bin",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        license="MIT",
        used_by="tests",
    )
    monkeypatch.setitem(MANIFEST, info.name, info)
    return info


def test_manifest_entries_point_at_pinned_commits() -> None:
    assert len(MANIFEST) == 25
    for name, info in MANIFEST.items():
        assert name == info.name
        assert len(info.commit) == 40 and len(info.sha256) == 64
        assert info.url == (
            f"https://raw.githubusercontent.com/{info.repo}/{info.commit}/{info.path}"
        )
    kitty = MANIFEST["trap_replace/blend.png"]
    assert kitty.repo == "VITA-Group/Trap-and-Replace-Backdoor-Defense"
    assert kitty.sha256 == MANIFEST["effective/hello_kitty.png"].sha256  # byte-identical copies


def test_every_manifest_file_matches_the_local_copies(assets_dir: Path) -> None:
    for name in MANIFEST:
        assert asset_path(name, assets_dir) == assets_dir / name
    assert read_image("trap_replace/trojan_8x8.png", assets_dir).shape == (32, 32, 3)
    assert read_array("trap_replace/mask.npy", assets_dir).shape == (3, 32, 32)


def test_missing_file_error_names_file_source_and_option(tmp_path: Path) -> None:
    with pytest.raises(MissingAssetError) as error:
        asset_path("trap_replace/l2_inv.png", tmp_path)
    message = str(error.value)
    assert "'trap_replace/l2_inv.png'" in message
    assert MANIFEST["trap_replace/l2_inv.png"].url in message
    assert "--assets DIR" in message and "python -m unpoison.assets fetch" in message
    assert isinstance(error.value, FileNotFoundError)


def test_unknown_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"trap_replace/l0_inv\.png"):
        asset_path("trap_replace/nothing.png", tmp_path)


def test_corrupted_file_is_refused(tmp_path: Path, fake_asset: AssetFile) -> None:
    target = tmp_path / fake_asset.name
    target.parent.mkdir(parents=True)
    target.write_bytes(PAYLOAD + b"!")
    with pytest.raises(ValueError, match="sha256"):
        asset_path(fake_asset.name, tmp_path)


def test_fetch_downloads_verifies_and_keeps_intact_files(
    tmp_path: Path, fake_asset: AssetFile
) -> None:
    opener = FakeOpener(PAYLOAD)
    (path,) = fetch([fake_asset.name], tmp_path, opener=opener)
    assert path.read_bytes() == PAYLOAD
    assert opener.urls == [fake_asset.url]
    assert asset_path(fake_asset.name, tmp_path) == path
    fetch([fake_asset.name], tmp_path, opener=opener)
    assert len(opener.urls) == 1  # already present and intact: not downloaded again


def test_fetch_of_wrong_bytes_writes_nothing(tmp_path: Path, fake_asset: AssetFile) -> None:
    with pytest.raises(ValueError, match="nothing was written"):
        fetch([fake_asset.name], tmp_path, opener=FakeOpener(b"tampered"))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_cli_check_reports_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--assets", str(tmp_path), "check"]) == 1
    assert f"0 of {len(MANIFEST)} trigger files intact" in capsys.readouterr().out


def test_cli_check_passes_on_a_complete_folder(
    assets_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["--assets", str(assets_dir), "check"]) == 0
    assert f"{len(MANIFEST)} of {len(MANIFEST)} trigger files intact" in capsys.readouterr().out
