"""The papers' third-party trigger files: manifest, lookup with checksum, and download.

The project does not ship these files. ``python -m unpoison.assets list`` shows them and
``python -m unpoison.assets fetch`` downloads them (with internet); commands that need one take
``--assets DIR``.
"""

from unpoison.assets.manifest import MANIFEST, AssetFile
from unpoison.assets.store import (
    ENV_VAR,
    MissingAssetError,
    asset_info,
    asset_path,
    default_assets_dir,
    fetch,
    read_array,
    read_image,
)

__all__ = [
    "ENV_VAR",
    "MANIFEST",
    "AssetFile",
    "MissingAssetError",
    "asset_info",
    "asset_path",
    "default_assets_dir",
    "fetch",
    "read_array",
    "read_image",
]
