"""convlens.data.pixel_scale: float pixels' scale decided from the data with a tolerance for
rounding, the same for npz arrays (Problem 3) and float TIFFs (Problem 2)."""

import numpy as np
import pytest
from PIL import Image

from convlens.data.images import ImageItem, read_image
from convlens.data.pixel_scale import float_full_scale
from convlens.demo.photos import bundled_photographs
from convlens.errors import ConvlensError
from convlens.jigsaw.puzzle.data import load_npz


@pytest.mark.parametrize(
    "lo, hi, full",
    [(0.0, 1.0, 1.0), (0.0, 1.0000001, 1.0), (-1e-7, 0.9, 1.0), (0.0, 255.0, 255.0), (0, 3, 255)],
)
def test_the_scale_follows_the_data_with_a_tolerance(lo, hi, full):
    assert float_full_scale(lo, hi, "x") == full


@pytest.mark.parametrize("lo, hi", [(0.0, 1.5), (-3.0, 1.0), (0.0, 300.0), (-10.0, 200.0)])
def test_neither_range_is_one_line_naming_the_range_found(lo, hi):
    with pytest.raises(ConvlensError, match=rf"x: float pixels span {lo:g}..{hi:g}; expected"):
        float_full_scale(lo, hi, "x")


def _photo() -> np.ndarray:
    return bundled_photographs()["chelsea"][:64, :64]  # H x W x 3 uint8, a real photograph


def test_a_0_1_npz_with_one_pixel_past_1_reads_as_the_uint8_file(tmp_path):
    """issue 42: one pixel at 1.0000001 made the whole array read as 0-255, so black."""
    photo = _photo().transpose(2, 0, 1)[None].repeat(2, 0)
    floats = (photo / 255.0).astype(np.float32)
    floats[0, 0, 0, 0] = np.float32(1.0000001)
    np.savez(tmp_path / "f.npz", a=floats)
    np.savez(tmp_path / "u.npz", a=photo)
    got, want = load_npz(tmp_path / "f.npz").train.images, load_npz(tmp_path / "u.npz").train.images
    assert got[0, 0, 0, 0] == 255  # the pixel past 1, white
    want[0, 0, 0, 0] = 255
    np.testing.assert_array_equal(got, want)  # every other pixel as the uint8 file has it


def test_a_float_tiff_in_0_1_with_rounding_past_1_reads_as_the_photograph(tmp_path):
    gray = _photo().mean(2).astype(np.float32) / 255.0
    gray[0, 0] = 1.0000001
    path = tmp_path / "gray.tif"
    Image.fromarray(gray, mode="F").save(path)
    got = np.asarray(read_image(ImageItem(str(path), path.read_bytes, None)))[..., 0]
    assert np.abs(got.astype(int) - np.rint(gray * 255).clip(0, 255)).max() <= 1
