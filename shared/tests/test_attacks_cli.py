"""``python -m unpoison.attacks``: the attack list and the trigger gallery."""

from pathlib import Path

import pytest
import torch
from PIL import Image
from unpoison.attacks import list_attacks
from unpoison.attacks.__main__ import COLUMNS, LABEL_HEIGHT, main
from unpoison.attacks.base import ATTACKS
from unpoison.attacks.gallery import ZOOM, trigger_gallery


def test_list_names_every_attack_with_papers_and_files(capsys: pytest.CaptureFixture) -> None:
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    entries = out.split("\n")
    assert [line for line in entries if line and not line.startswith(" ")] == list_attacks()
    assert out.count("  papers:") == len(list_attacks())
    file_attacks = [name for name in list_attacks() if ATTACKS.get(name).asset_files]
    assert file_attacks, "some attacks read trigger files"
    for name in file_attacks:
        for asset in ATTACKS.get(name).asset_files:
            assert asset in out
    # Learned attacks say what they train and which readings of unclear code they take.
    assert out.count("  learned:    trains networks first") == 7
    lcba = out.split("\nlcba\n")[1].split("\nsig\n")[0]
    assert "our reading" in " ".join(lcba.split())


def test_gallery_skips_attacks_whose_files_are_missing(tmp_path: Path) -> None:
    image = torch.arange(3 * 32 * 32, dtype=torch.int64).remainder(256).to(torch.uint8)
    image = image.reshape(3, 32, 32)
    gallery = trigger_gallery(image, assets=tmp_path)
    skipped = {line.split(":")[0] for line in gallery.skipped}
    assert {name for name in list_attacks() if ATTACKS.get(name).asset_files} <= skipped
    assert gallery.names[0] == "clean"
    assert set(gallery.names[1:]) | skipped == set(list_attacks())
    # Learned attacks are not prepared for the gallery: they are listed as skipped, saying why.
    assert any(line.startswith("dynamic: ") and "call prepare" in line for line in gallery.skipped)
    assert gallery.images.shape == (len(gallery.names), 3, 32 * ZOOM, 32 * ZOOM)
    assert torch.equal(gallery.images[0, :, ::ZOOM, ::ZOOM], image)
    grid_index = gallery.names.index("badnets-grid")
    assert torch.equal(gallery.images[grid_index, :, -ZOOM, -ZOOM], torch.full((3,), 255))


def test_gallery_png_has_one_captioned_tile_per_shown_attack(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    png = tmp_path / "gallery.png"
    assert main(["--gallery", str(png), "--assets", str(tmp_path / "none")]) == 0
    shown = int(capsys.readouterr().out.split("gallery of ")[1].split()[0]) + 1  # + clean
    with Image.open(png) as picture:
        width, height = picture.size
    tile = 32 * ZOOM
    assert width == min(shown, COLUMNS) * tile
    assert height == -(-shown // COLUMNS) * (tile + LABEL_HEIGHT)


def test_nothing_to_do_is_an_error() -> None:
    with pytest.raises(SystemExit) as error:
        main([])
    assert error.value.code == 2
