"""Finding, checking and downloading the trigger files listed in the manifest.

A trigger file is looked up in one folder, the first of: the ``assets_dir`` argument (the
``--assets DIR`` option of every command), the ``UNPOISON_ASSETS`` environment variable, and
``~/.cache/unpoison/assets`` (where :func:`fetch` writes). Every file is checked against its
sha256 before use, so a trigger is either the paper's file or an error, never a look-alike.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from unpoison.assets.manifest import MANIFEST, AssetFile

ENV_VAR = "UNPOISON_ASSETS"
DEFAULT_DIR = Path("~/.cache/unpoison/assets")


class MissingAssetError(FileNotFoundError):
    """A trigger file is absent from the assets folder; the message says how to get it."""


def default_assets_dir() -> Path:
    """``$UNPOISON_ASSETS`` if set, else ``~/.cache/unpoison/assets``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR).expanduser()


def asset_info(name: str) -> AssetFile:
    """The manifest entry of ``name``; unknown names raise ValueError listing the known ones."""
    if name not in MANIFEST:
        raise ValueError(f"no trigger file {name!r} in the manifest; known: {', '.join(MANIFEST)}")
    return MANIFEST[name]


def asset_path(name: str, assets_dir: str | Path | None = None) -> Path:
    """The verified local path of trigger file ``name``.

    Raises :class:`MissingAssetError` naming the file, its upstream source and the ways to supply
    it when it is absent, and ValueError when its sha256 differs from the manifest's.
    """
    info = asset_info(name)
    folder = default_assets_dir() if assets_dir is None else Path(assets_dir).expanduser()
    path = folder / name
    if not path.is_file():
        raise MissingAssetError(
            f"trigger file {name!r} is not in the assets folder {folder}.\n"
            f"  upstream: {info.url} ({info.repo} @ {info.commit[:7]}, licence: {info.license})\n"
            f"  used by:  {info.used_by}\n"
            f"  get it with `python -m unpoison.assets fetch {name}` (needs internet), or point "
            f"`--assets DIR` (or ${ENV_VAR}) at a folder that holds it as DIR/{name}"
        )
    digest = _sha256(path)
    if digest != info.sha256:
        raise ValueError(
            f"trigger file {path} has sha256 {digest}, but {name!r} must have {info.sha256} "
            f"(the file at {info.url}); delete it and fetch it again"
        )
    return path


def read_image(name: str, assets_dir: str | Path | None = None) -> np.ndarray:
    """A verified PNG trigger as a uint8 array [H, W] (grey) or [H, W, 3] (RGB), as PIL reads it."""
    with Image.open(asset_path(name, assets_dir)) as image:
        return np.asarray(image).copy()


def read_array(name: str, assets_dir: str | Path | None = None) -> np.ndarray:
    """A verified ``.npy`` trigger array."""
    return np.load(asset_path(name, assets_dir), allow_pickle=False)


def fetch(
    names: Iterable[str] | None = None,
    assets_dir: str | Path | None = None,
    opener: urllib.request.OpenerDirector | None = None,
) -> list[Path]:
    """Download trigger files (default: all of the manifest) into the assets folder.

    Files already present with the right sha256 are kept. Each download is checked against the
    manifest's sha256 and only then moved into place, so a failed or corrupted download leaves
    nothing behind. ``opener`` replaces the default URL opener (tests, proxies).
    """
    entries = [asset_info(name) for name in (MANIFEST if names is None else names)]
    folder = default_assets_dir() if assets_dir is None else Path(assets_dir).expanduser()
    opener = opener or urllib.request.build_opener()
    paths = []
    for info in entries:
        path = folder / info.name
        if not (path.is_file() and _sha256(path) == info.sha256):
            _download(info, path, opener)
        paths.append(path)
    return paths


def _download(info: AssetFile, path: Path, opener: urllib.request.OpenerDirector) -> None:
    """Fetch ``info.url`` into ``path`` atomically, after checking its sha256."""
    try:
        with opener.open(info.url, timeout=60) as response:
            data = response.read()
    except OSError as error:
        raise OSError(
            f"could not download trigger file {info.name!r} from {info.url}: {error}"
        ) from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != info.sha256:
        raise ValueError(
            f"download of {info.name!r} from {info.url} has sha256 {digest}, expected "
            f"{info.sha256}; nothing was written"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
