"""Train a StegaStamp encoder, export it, and encode the SSBA poison the reproductions read.

    python reproductions/ssba/ssba_encoder.py                    # mini: digits, ~15 min on a CPU
    python reproductions/ssba/ssba_encoder.py --preset paper --data-root ~/data/sub-imagenet-200
    python reproductions/ssba/ssba_encoder.py --preset paper --encoder ~/issba/encoder_imagenet

(``nox -s ssba-encoder -- ARGS`` runs it in an environment with TensorFlow.) Into ``--out``
(default ``runs/ssba/<preset>``) it writes:

- ``encoder/``: the SavedModel (signature ``serving_default``: secret, image -> stegastamp,
  residual); with ``--encoder`` nothing is trained and that SavedModel is used instead, ours or
  one in the official ISSBA export format;
- ``poison.safetensors``: the SSBA cache, D-BR's poisoned training images and every non-target
  test image encoded with the BCH("a") secret;
- ``tensorboard/``: the encoder's training curves; ``results.json``: the recipe, the seed, the
  held-out bit accuracy and PSNR, the encoder's sha256 and what the cache holds.

A finished encoder is reused on the next run (``--fresh`` retrains it); the cache is always
rewritten. The reproductions name the cache and the encoder in their SSBA rows.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

from unpoison.data import load

# unpoison (torch, torchvision) before TensorFlow: torch's triton, when first imported after
# TensorFlow, crashes the interpreter (seen with tensorflow-cpu 2.21 and torch 2.14).
from unpoison.defenses.cli import exit_on_bad_input
from unpoison.logging import package_versions, write_json_atomic

# isort: split
from encode_poison import write_poison_cache
from encoder_presets import PRESETS
from saved_encoder import export_encoder
from training import train_encoder

ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="mini",
        help="mini: digits on a CPU (default); paper: the D-BR ImageNet-subset table (GPU)",
    )
    parser.add_argument("--data-root", type=Path, help="folder holding (or receiving) the dataset")
    parser.add_argument("--download", action="store_true", help="download the dataset if absent")
    parser.add_argument("--seed", type=int, default=0, help="seed of the encoder's training")
    parser.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    parser.add_argument(
        "--encoder", type=Path, help="use this SavedModel encoder instead of training one"
    )
    parser.add_argument("--out", type=Path, help="output folder (default: runs/ssba/<preset>)")
    parser.add_argument("--fresh", action="store_true", help="retrain an encoder that exists")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    preset = PRESETS[args.preset]
    recipe = preset.training if args.steps is None else replace(preset.training, steps=args.steps)
    out = args.out or ROOT / "runs" / "ssba" / preset.name
    if args.encoder is not None and not (args.encoder / "saved_model.pb").is_file():
        raise FileNotFoundError(f"no SavedModel at {args.encoder} (no saved_model.pb)")
    dataset = load(preset.dataset, root=args.data_root, download=args.download)
    record_path = out / "results.json"
    record: dict = {"preset": preset.name, "dataset": dataset.name, "versions": package_versions()}
    started = time.perf_counter()
    if args.encoder is not None:
        encoder_dir = args.encoder
        record["encoder"] = {"source": str(args.encoder)}
    else:
        encoder_dir = out / "encoder"
        if args.fresh or not (encoder_dir / "saved_model.pb").is_file():
            covers = dataset.train.x.permute(0, 2, 3, 1).numpy()
            held_out = dataset.test.x.permute(0, 2, 3, 1).numpy()
            encoder, _, quality = train_encoder(
                covers, held_out, recipe, args.seed, log_dir=out / "tensorboard"
            )
            export_encoder(encoder, encoder_dir)
            record["encoder"] = {
                "source": "trained",
                "recipe": asdict(recipe),
                "seed": args.seed,
                "held_out": asdict(quality),
                "train_seconds": round(time.perf_counter() - started, 1),
            }
            write_json_atomic(record_path, record)  # a later run reusing the encoder reads it
            print(
                f"encoder: held-out bit accuracy {quality.bit_accuracy:.4f}, "
                f"PSNR {quality.psnr:.2f} dB ({recipe.steps} steps)"
            )
        else:
            previous = _read_record(record_path)
            record["encoder"] = previous.get("encoder", {"source": "trained"})
            print(f"encoder: reusing {encoder_dir} (--fresh retrains it)")
    cache = out / "poison.safetensors"
    record["poison"] = write_poison_cache(
        encoder_dir,
        dataset,
        cache,
        rate=preset.rate,
        target=preset.target,
        selection=preset.selection,
        seed=preset.seed,
    )
    write_json_atomic(record_path, record)
    poison = record["poison"]
    print(
        f"SSBA cache {cache}: {poison['train_images']} training and {poison['test_images']} test "
        f"images, encoder sha256 {poison['encoder_sha256']}"
    )
    return 0


def _read_record(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


if __name__ == "__main__":
    exit_on_bad_input(main)
