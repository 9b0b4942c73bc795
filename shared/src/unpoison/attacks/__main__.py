"""``python -m unpoison.attacks``: list the attacks, or draw one image under every trigger."""

from __future__ import annotations

import argparse
import inspect
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from unpoison.attacks.base import ATTACKS
from unpoison.attacks.gallery import Gallery, trigger_gallery
from unpoison.attacks.learned import LearnedAttack
from unpoison.attacks.ssba import SSBA
from unpoison.data import list_datasets, load

LABEL_HEIGHT = 14  # pixels of caption under each gallery tile (PIL's default bitmap font)
COLUMNS = 8  # tiles per gallery row


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m unpoison.attacks",
        description="The backdoor attacks of unpoison. --list prints every attack with the papers "
        "that use it, its label rule, its parameters and the trigger files it needs. --gallery "
        "and --logdir show one test image clean and under every trigger.",
    )
    parser.add_argument("--list", action="store_true", help="print every attack")
    parser.add_argument("--gallery", type=Path, help="write the gallery as this PNG file")
    parser.add_argument("--logdir", type=Path, help="write the gallery to TensorBoard here")
    parser.add_argument(
        "--dataset", default="digits", choices=list_datasets(), help="image source (digits)"
    )
    parser.add_argument("--data-root", type=Path, help="dataset folder (not needed for digits)")
    parser.add_argument("--index", type=int, default=0, help="which test image to show (0)")
    parser.add_argument(
        "--assets", type=Path, help="folder of trigger files (see python -m unpoison.assets)"
    )
    return parser


def describe(name: str) -> str:
    """One attack's entry of ``--list``."""
    cls = ATTACKS.get(name)
    defaults = {
        key: parameter.default
        for key, parameter in inspect.signature(cls).parameters.items()
        if key not in ("assets", "label_rule")
    }
    params = ", ".join(
        f"{key}={'<required>' if value is inspect.Parameter.empty else repr(value)}"
        for key, value in defaults.items()
    )
    files = ", ".join(cls.asset_files) if cls.asset_files else "none"
    entry = (
        f"{name}\n  papers:     {cls.papers}\n  label rule: {cls.default_label_rule.value}\n"
        f"  parameters: {params or '-'}\n  files:      {files}"
    )
    if issubclass(cls, LearnedAttack):
        # What it trains and which readings of unclear code it takes: its docstring.
        recipe = textwrap.fill(
            "trains networks first (attack.prepare). " + " ".join(inspect.getdoc(cls).split()),
            width=100,
            initial_indent="  learned:    ",
            subsequent_indent=" " * 14,
        )
        entry += "\n" + recipe
    if cls is SSBA:
        entry += (
            "\n  reads:      an SSBA cache (the images `nox -s ssba-encoder` encoded) and checks "
            "the encoder's sha256"
        )
    return entry


def gallery_png(gallery: Gallery) -> Image.Image:
    """The gallery as a grid of captioned tiles, ``COLUMNS`` per row."""
    tiles = gallery.images.permute(0, 2, 3, 1).cpu().numpy()
    count, height, width, channels = tiles.shape
    rows = -(-count // COLUMNS)
    cell_height = height + LABEL_HEIGHT
    canvas = Image.new("RGB", (min(count, COLUMNS) * width, rows * cell_height), "white")
    draw = ImageDraw.Draw(canvas)
    for position, (tile, name) in enumerate(zip(tiles, gallery.names, strict=True)):
        left, top = (position % COLUMNS) * width, (position // COLUMNS) * cell_height
        rgb = np.repeat(tile, 3, axis=2) if channels == 1 else tile
        canvas.paste(Image.fromarray(np.ascontiguousarray(rgb)), (left, top))
        draw.text((left + 2, top + height + 1), name[: width // 6], fill="black")
    return canvas


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not (args.list or args.gallery or args.logdir):
        parser.error("nothing to do: give --list, --gallery PNG or --logdir DIR")
    if args.list:
        print("\n".join(describe(name) for name in ATTACKS.names()))
    if args.gallery or args.logdir:
        test = load(args.dataset, args.data_root).test
        if not 0 <= args.index < len(test):
            parser.error(f"--index must be in [0, {len(test)}) for {args.dataset}")
        gallery = trigger_gallery(test.x[args.index], args.assets)
        for line in gallery.skipped:
            print(f"not shown: {line}", file=sys.stderr)
        if args.gallery:
            args.gallery.parent.mkdir(parents=True, exist_ok=True)
            gallery_png(gallery).save(args.gallery)
            print(f"gallery of {len(gallery.names) - 1} triggers written to {args.gallery}")
        if args.logdir:
            from unpoison.logging import TensorBoardLogger

            logger = TensorBoardLogger(args.logdir)
            logger.images("attacks/gallery", gallery.images, 0)
            logger.text("attacks/gallery_order", ", ".join(gallery.names))
            logger.close()
            print(f"gallery written to TensorBoard in {args.logdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
