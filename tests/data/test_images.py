"""Classes 6, 7 and 8 of issue 23: every listed image is checked before a model loads, images
are read as a viewer shows them, and val.txt cannot reach outside its folder."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from bad_input import assert_refused
from PIL import Image

from convlens.data.images import file_item, read_image
from convlens.demo.photos import bundled_photographs


def _jpeg(img: np.ndarray, **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90, **save)
    return buf.getvalue()


def _png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture()
def folder(tmp_path) -> Path:
    """A problem2-style folder with two good photographs."""
    root = tmp_path / "problem2"
    (root / "validation_images").mkdir(parents=True)
    photos = bundled_photographs()
    for name, key in (("a.JPEG", "chelsea"), ("b.JPEG", "coffee")):
        (root / "validation_images" / name).write_bytes(_jpeg(photos[key][:200, :300]))
    (root / "val.txt").write_text("a.JPEG 281\nb.JPEG 967")
    return root


_LISTED = [
    ("truncated JPEG", lambda good: good[: len(good) // 2], "c.JPEG", "truncated"),
    ("text named .JPEG", lambda good: b"<html>not found</html>", "c.JPEG", "not a readable image"),
    ("empty file", lambda good: b"", "c.JPEG", "not a readable image"),
    ("truncated PNG", lambda good: _png(np.zeros((64, 64, 3), np.uint8))[:-40], "c.png", "png"),
]


@pytest.mark.parametrize("case", _LISTED, ids=[c[0] for c in _LISTED])
def test_a_bad_listed_image_stops_evaluate_before_the_model_loads(case, folder, capsys):
    """--weights vgg16 is not on this machine (tests run offline): had the model been loaded
    first, the error would name the weights instead of the image."""
    _, damage, name, words = case
    good = (folder / "validation_images" / "a.JPEG").read_bytes()
    (folder / "validation_images" / name).write_bytes(damage(good))
    with open(folder / "val.txt", "a") as handle:
        handle.write(f"\n{name} 5")
    line = assert_refused(["evaluate", folder, "--weights", "vgg16"], words, capsys, [folder])
    assert name in line


def test_val_txt_cannot_name_a_file_outside_its_folder(folder, tmp_path, capsys):
    secret = tmp_path / "secret.jpg"
    shutil.copy(folder / "validation_images" / "a.JPEG", secret)
    for name in ("../../secret.jpg", "/etc/passwd"):
        (folder / "val.txt").write_text(f"a.JPEG 281\n{name} 3")
        line = assert_refused(
            ["evaluate", folder, "--weights", "random", "--arch", "vgg11"],
            "leaves validation_images",
            capsys,
            [folder],
        )
        assert name in line


def test_data_after_the_jpeg_end_marker_is_not_called_truncated(folder):
    """Some cameras append their own data after the image; only a decode can tell, and it
    succeeds."""
    from convlens.data.problem2 import load_problem2

    path = folder / "validation_images" / "a.JPEG"
    path.write_bytes(path.read_bytes() + b"SEFT" + bytes(10_000))
    assert len(load_problem2(folder).validation) == 2


@pytest.mark.parametrize(
    "orientation, turn",
    [
        (1, lambda a: a),
        (3, lambda a: np.rot90(a, 2)),
        (6, lambda a: np.rot90(a, -1)),
        (8, lambda a: np.rot90(a, 1)),
        (2, lambda a: a[:, ::-1]),
    ],
    ids=["upright", "upside down", "turned right", "turned left", "mirrored"],
)
def test_images_are_read_as_a_viewer_shows_them(orientation, turn, tmp_path):
    """A camera held upright stores its pixels sideways with EXIF orientation 6; every viewer
    (and torchvision-style loaders) turns them back. The oracle is the EXIF specification's
    table, applied to the stored pixels with numpy."""
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:10, :30] = (255, 0, 0)  # a red block in the stored top-left corner
    stored[-10:, -20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(stored).save(path, exif=exif.tobytes())
    shown = np.asarray(read_image(file_item(path)))
    np.testing.assert_array_equal(shown, turn(stored))


def test_macos_metadata_files_are_skipped_and_said_once(problem2_dir, tmp_path, capsys):
    """`._1.JPEG` (AppleDouble metadata a Mac writes beside 1.JPEG on foreign disks and in
    zips) has an image's suffix but is no image: skipped where images are listed, said once."""
    import shutil

    from convlens.data.images import list_image_files
    from convlens.data.problem2 import load_problem2

    folder = tmp_path / "problem2"
    shutil.copytree(problem2_dir, folder)
    for name in ("._1.JPEG", "._2.JPEG"):
        (folder / "test_images" / name).write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (folder / "test_images" / "__MACOSX").mkdir()
    (folder / "test_images" / "__MACOSX" / "3.JPEG").write_bytes(b"\x00\x05\x16\x07")
    p2 = load_problem2(folder)
    assert [it.name.rsplit("/", 1)[-1] for it in p2.test] == [f"{i}.JPEG" for i in range(1, 6)]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "skipped 2 macOS metadata file(s)" in err[0]
    items = list_image_files([folder / "test_images"])
    assert len(items) == 5
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "skipped 3 macOS metadata file(s)" in err[0]


def test_an_oversized_file_in_a_folder_is_refused_before_it_is_read(problem2_dir, tmp_path):
    """A photograph followed by 3 GiB of zeros (a sparse file: no disk used) is refused by its
    size, as a zip member would be, without reading it."""
    import shutil

    from convlens.data.problem2 import load_problem2
    from convlens.errors import ConvlensError

    folder = tmp_path / "problem2"
    shutil.copytree(problem2_dir, folder)
    big = folder / "test_images" / "1.JPEG"
    with open(big, "r+b") as handle:
        handle.truncate(3 << 30)
    with pytest.raises(ConvlensError, match=r"1.JPEG: 3,072 MiB, more than convlens reads"):
        load_problem2(folder)
    (folder / "val.txt").write_bytes(b" " * (17 << 20))
    with pytest.raises(ConvlensError, match=r"val.txt: 17 MiB"):
        load_problem2(folder)


@pytest.mark.parametrize("target", ["file", "folder"])
def test_a_link_that_leaves_the_folder_is_refused(problem2_dir, tmp_path, target):
    import shutil

    from convlens.data.problem2 import load_problem2
    from convlens.errors import ConvlensError

    folder = tmp_path / "problem2"
    shutil.copytree(problem2_dir, folder)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    first = (folder / "val.txt").read_text().split()[0]
    shutil.move(folder / "validation_images" / first, outside / first)
    if target == "file":
        (folder / "validation_images" / first).symlink_to(outside / first)
    else:  # val.txt names sub/<first>, and sub is a link to a folder elsewhere
        (folder / "validation_images" / "sub").symlink_to(outside)
        text = (folder / "val.txt").read_text()
        (folder / "val.txt").write_text(text.replace(first, f"sub/{first}", 1))
    with pytest.raises(ConvlensError, match="outside validation_images/"):
        load_problem2(folder)


def test_one_listing_rule_for_problem2_and_the_demos_photographs(tmp_path):
    """issue 42: the demo read test_images/ recursively and keyed photographs by stem, so a
    figure in a subfolder became a photograph and 1.JPEG and 1.png collapsed to one."""
    from PIL import Image

    from convlens.data.images import folder_images
    from convlens.demo.photos import bundled_photographs, folder_photographs

    photo = bundled_photographs()["chelsea"][:48, :64]
    folder = tmp_path / "test_images"
    (folder / "figures").mkdir(parents=True)
    for name in ("1.JPEG", "1.png", "10.png", "2.png", "figures/plot.png"):
        Image.fromarray(photo).save(folder / name)
    (folder / "._1.JPEG").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    listed = [f.name for f in folder_images(folder)]
    assert listed == ["1.JPEG", "1.png", "2.png", "10.png"]
    assert list(folder_photographs(folder)) == listed
