"""Inputs that used to be read silently wrong: 16-bit and float images, 0-1 float npz files, a
byte-order mark in val.txt, elongated images that exploded in memory, changed data behind the
same path."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from convlens.data import load_problem2, read_image
from convlens.data.transforms import center_crop, resize_and_crop, resize_shorter
from convlens.errors import ConvlensError
from convlens.fingerprint import fingerprint
from convlens.jigsaw import load_npz


@pytest.fixture(scope="module")
def gray8() -> np.ndarray:
    """A real photograph (the exam's first test image), in grayscale."""
    from skimage import data

    return np.asarray(Image.fromarray(data.camera()).resize((96, 80)))


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_images_read_as_their_8_bit_equivalent(gray8, fmt, tmp_path):
    wide = gray8.astype(np.uint16) * 257  # 0-255 spread over 0-65535
    path16, path8 = tmp_path / f"a16.{fmt.lower()}", tmp_path / f"a8.{fmt.lower()}"
    Image.fromarray(wide).save(path16, format=fmt)
    Image.fromarray(gray8).save(path8, format=fmt)
    assert Image.open(path16).mode.startswith("I;16")  # the case Pillow clips to 255
    np.testing.assert_array_equal(np.asarray(read_image(path16)), np.asarray(read_image(path8)))


def test_float_images_in_0_1_and_0_255_read_alike(gray8, tmp_path):
    for name, scale in (("unit", 1 / 255), ("byte", 1.0)):
        Image.fromarray(gray8.astype(np.float32) * scale).save(tmp_path / f"{name}.tiff")
    unit = np.asarray(read_image(tmp_path / "unit.tiff")).astype(int)
    byte = np.asarray(read_image(tmp_path / "byte.tiff")).astype(int)
    assert np.abs(unit - gray8[..., None]).max() <= 1 and np.array_equal(byte[..., 0], gray8)
    Image.fromarray(gray8.astype(np.float32) * 1000).save(tmp_path / "odd.tiff")
    with pytest.raises(ConvlensError, match="odd.tiff.*span"):
        read_image(tmp_path / "odd.tiff")


def test_float_npz_in_0_1_equals_the_uint8_file(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 3, 32, 32), dtype=np.uint8)
    orders = np.array([[0, 1, 2, 3]] * 6)
    np.savez(tmp_path / "u8.npz", a=images, b=orders)
    np.savez(tmp_path / "unit.npz", a=images.astype(np.float32) / 255, b=orders)
    np.savez(tmp_path / "f255.npz", a=images.astype(np.float64), b=orders)
    u8 = load_npz(tmp_path / "u8.npz")
    for name in ("unit", "f255"):
        other = load_npz(tmp_path / f"{name}.npz")
        np.testing.assert_array_equal(other.train.images, u8.train.images)
    assert "scaled" in load_npz(tmp_path / "unit.npz").dtype_found


def test_val_txt_with_a_byte_order_mark(problem2_dir, tmp_path):
    copy = tmp_path / "p2"
    shutil.copytree(problem2_dir, copy)
    text = (copy / "val.txt").read_text()
    (copy / "val.txt").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert [it.label for it in load_problem2(copy).validation] == [
        it.label for it in load_problem2(problem2_dir).validation
    ]


def test_elongated_image_resizes_only_what_the_crop_keeps(monkeypatch):
    sizes = []
    real = Image.Image.resize

    def recording(self, size, *args, **kw):
        sizes.append(size)
        return real(self, size, *args, **kw)

    monkeypatch.setattr(Image.Image, "resize", recording)
    strip = Image.fromarray(np.tile(np.arange(16000, dtype=np.uint8)[None, :, None], (1, 1, 3)))
    out = resize_and_crop(strip)
    assert out.size == (224, 224)
    assert max(w * h for w, h in sizes) <= 224 * 224  # not 256 x 4,096,000


def test_elongated_box_resize_agrees_with_the_two_step_path():
    rng = np.random.default_rng(1)
    smooth = np.cumsum(rng.integers(0, 3, (40, 1200, 3)), axis=1).astype(np.uint8)
    img = Image.fromarray(smooth)
    direct = np.asarray(center_crop(resize_shorter(img, 256), 224)).astype(int)
    boxed = np.asarray(resize_and_crop(img)).astype(int)
    assert np.abs(direct - boxed).max() <= 1


def test_fingerprint_sees_a_replaced_member_inside_the_same_zip(tmp_path):
    z = tmp_path / "problem3.zip"
    for n in (10, 12):
        np.savez(tmp_path / "DataShuffled.npz", a=np.zeros((n, 3, 32, 32), np.uint8))
        with zipfile.ZipFile(z, "w") as archive:
            archive.write(tmp_path / "DataShuffled.npz", "DataShuffled.npz")
        if n == 10:
            first = fingerprint(z)
    assert fingerprint(z) != first
    assert fingerprint(z) == fingerprint(z)


def test_output_errors_name_the_file_asked_for_not_a_temporary_one(tmp_path):
    from convlens import atomic

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(ConvlensError) as err:
        atomic.write_text(blocker / "results.json", "{}")
    assert str(err.value).startswith(f"{blocker / 'results.json'}: cannot write")
    assert ".results.json." not in str(err.value)  # mkstemp's temporary name stays hidden
    with pytest.raises(ConvlensError, match="is a folder"):
        atomic.write_text(tmp_path, "{}")
