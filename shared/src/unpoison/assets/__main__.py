"""``python -m unpoison.assets``: list, check or download the papers' trigger files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from unpoison.assets.manifest import MANIFEST
from unpoison.assets.store import ENV_VAR, asset_path, default_assets_dir, fetch


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m unpoison.assets",
        description="The third-party trigger files that some attacks read (not shipped with "
        "unpoison). `list` shows each file with its upstream source, licence and users; `check` "
        "says which are present and intact in the assets folder; `fetch` downloads them "
        "(internet needed) and verifies their sha256.",
    )
    parser.add_argument(
        "--assets",
        type=Path,
        default=None,
        help=f"assets folder (default: ${ENV_VAR}, else ~/.cache/unpoison/assets)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every trigger file of the manifest")
    commands.add_parser("check", help="which trigger files are present and intact")
    fetch_parser = commands.add_parser("fetch", help="download trigger files (default: all)")
    fetch_parser.add_argument(
        "names", nargs="*", help="manifest names (e.g. trap_replace/l2_inv.png)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    folder = args.assets if args.assets is not None else default_assets_dir()
    if args.command == "list":
        for info in MANIFEST.values():
            print(f"{info.name}\n  used by: {info.used_by}\n  licence: {info.license}")
            print(f"  source:  {info.url}\n  sha256:  {info.sha256}")
        return 0
    if args.command == "check":
        missing = 0
        for name in MANIFEST:
            try:
                asset_path(name, folder)
                print(f"ok       {name}")
            except (FileNotFoundError, ValueError) as error:
                missing += 1
                status = "missing " if isinstance(error, FileNotFoundError) else "corrupt "
                print(f"{status} {name}")
        print(f"{len(MANIFEST) - missing} of {len(MANIFEST)} trigger files intact in {folder}")
        return 1 if missing else 0
    try:
        paths = fetch(args.names or None, folder)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{len(paths)} trigger file(s) verified in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
