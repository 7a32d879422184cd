import io
import zipfile

import numpy as np
import pytest
import torch

from convlens.errors import ConvlensError
from convlens.jigsaw import deshuffle, load_npz, orders_to_classes, shuffle
from convlens.jigsaw.puzzle.permutations import (
    COMPOSE,
    PERMUTATIONS,
    classes_to_orders,
    compose,
    correct_positions,
    inverse,
    validate_orders,
)


def _slot(img, k):
    """Tile k (raster order) of a C x H x W image, as a view."""
    h, w = img.shape[1] // 2, img.shape[2] // 2
    r, c = divmod(k, 2)
    return img[:, r * h : (r + 1) * h, c * w : (c + 1) * w]


def loop_deshuffle(shuffled, orders):
    """Written from DATA.md: tile i of the shuffled image moves to position order[i]."""
    out = np.zeros_like(shuffled)
    for n in range(len(shuffled)):
        for i in range(4):
            _slot(out[n], orders[n][i])[...] = _slot(shuffled[n], i)
    return out


def loop_shuffle(original, orders):
    """DATA.md: shuffling puts the original tile at position order[i] into slot i."""
    out = np.zeros_like(original)
    for n in range(len(original)):
        for i in range(4):
            _slot(out[n], i)[...] = _slot(original[n], orders[n][i])
    return out


@pytest.fixture
def photos():
    from skimage import data

    imgs = [data.astronaut(), data.chelsea(), data.coffee()]
    crops = [np.ascontiguousarray(im[:96, :96].transpose(2, 0, 1)) for im in imgs]
    return np.stack(crops)  # 3 x 3 x 96 x 96 uint8, real photographs


def test_24_permutations_round_trip_classes():
    assert PERMUTATIONS.shape == (24, 4)
    assert len({tuple(p) for p in PERMUTATIONS.tolist()}) == 24
    np.testing.assert_array_equal(orders_to_classes(PERMUTATIONS), np.arange(24))
    np.testing.assert_array_equal(classes_to_orders(np.arange(24)), PERMUTATIONS)


def test_against_plain_loops_numpy_and_torch(photos):
    rng = np.random.default_rng(0)
    for _ in range(5):
        orders = PERMUTATIONS[rng.integers(0, 24, size=3)]
        np.testing.assert_array_equal(deshuffle(photos, orders), loop_deshuffle(photos, orders))
        np.testing.assert_array_equal(shuffle(photos, orders), loop_shuffle(photos, orders))
        t = torch.from_numpy(photos)
        assert torch.equal(
            deshuffle(t, torch.from_numpy(orders)), torch.from_numpy(loop_deshuffle(photos, orders))
        )
        assert torch.equal(shuffle(t, orders), torch.from_numpy(loop_shuffle(photos, orders)))


def test_all_24_round_trips(photos):
    img = np.repeat(photos[:1], 24, axis=0)
    shuffled = shuffle(img, PERMUTATIONS)
    np.testing.assert_array_equal(deshuffle(shuffled, PERMUTATIONS), img)
    np.testing.assert_array_equal(shuffle(deshuffle(img, PERMUTATIONS), PERMUTATIONS), img)
    assert len({s.tobytes() for s in shuffled}) == 24  # every order gives a different picture


def test_composition_of_random_permutations(photos):
    rng = np.random.default_rng(1)
    s = PERMUTATIONS[rng.integers(0, 24, 3)]
    p = PERMUTATIONS[rng.integers(0, 24, 3)]
    np.testing.assert_array_equal(shuffle(shuffle(photos, s), p), shuffle(photos, compose(s, p)))
    np.testing.assert_array_equal(
        COMPOSE[orders_to_classes(s), orders_to_classes(p)], orders_to_classes(compose(s, p))
    )
    np.testing.assert_array_equal(compose(s, inverse(s)), np.tile(np.arange(4), (3, 1)))


def test_known_example():
    # a 2x2 "image" with one pixel per tile: values 0, 1, 2, 3 in raster order
    img = np.arange(4).reshape(1, 1, 2, 2)
    order = np.array([[2, 0, 3, 1]])
    # de-shuffling moves tile 0 (value 0) to position 2, tile 1 to 0, tile 2 to 3, tile 3 to 1
    np.testing.assert_array_equal(deshuffle(img, order).ravel(), [1, 3, 0, 2])


def test_correct_positions():
    assert correct_positions(
        [[0, 1, 2, 3], [1, 0, 2, 3]], [[0, 1, 2, 3], [0, 1, 2, 3]]
    ).tolist() == [4, 2]


@pytest.mark.parametrize(
    ("orders", "message"),
    [
        ([[0, 1, 2, 2]], "row 0 is not a permutation"),
        ([[0, 1, 2, 3], [0, 1, 2, 4]], "row 1"),
        ([[0, 1, 2]], "shape"),
        ([[0.5, 1, 2, 3]], "row 0"),
    ],
)
def test_bad_orders(orders, message):
    with pytest.raises(ValueError, match=message):
        validate_orders(orders)


def test_bad_image_shapes(photos):
    with pytest.raises(ValueError, match="even"):
        shuffle(photos[:, :, :95], PERMUTATIONS[:3])
    with pytest.raises(ValueError, match="3 images but 2 orders"):
        shuffle(photos, PERMUTATIONS[:2])


def _npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_load_npz_uint8_float_zip_and_unknown_rows(tmp_path, photos):
    orders = PERMUTATIONS[[3, 5, 7]].astype(np.float64)
    orders[1] = np.nan  # permutation not kept for this image
    (tmp_path / "DataShuffled.npz").write_bytes(
        _npz_bytes(a=photos.astype(np.float32), b=orders, c=photos, d=PERMUTATIONS[[0, 1, 2]])
    )
    d = load_npz(tmp_path / "DataShuffled.npz")
    assert d.train.images.dtype == np.uint8 and "float32" in d.dtype_found
    assert d.train.known.tolist() == [True, False, True]
    np.testing.assert_array_equal(d.train.labels[2], PERMUTATIONS[7])
    with zipfile.ZipFile(tmp_path / "problem3.zip", "w") as z:
        z.write(tmp_path / "DataShuffled.npz", "problem3/DataShuffled.npz")
    z = load_npz(tmp_path / "problem3.zip")
    np.testing.assert_array_equal(z.test.images, photos)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"a": np.zeros((2, 3, 95, 96))}, "even"),
        ({"a": np.zeros((2, 96, 96, 3))}, "N x 3 x H x W"),
        ({"a": np.full((2, 3, 4, 4), 300.0)}, "float pixels span 300..300; expected 0-1 or 0-255"),
        ({"a": np.full((2, 3, 4, 4), 300, np.int16)}, "image 0 has pixels outside 0-255"),
        ({"a": np.full((2, 3, 4, 4), 1.5)}, "float pixels span 1.5..1.5"),  # neither range
        (
            {"a": np.zeros((2, 3, 4, 4)), "b": np.array([[0, 1, 2, 3], [0, 1, 1, 3]])},
            "key 'b' row 1",
        ),
        ({"a": np.zeros((2, 3, 4, 4)), "b": np.array([[0, 1, 2, 3]])}, "1 orders for 2 images"),
        ({"x": np.zeros(3)}, "no images"),
    ],
)
def test_load_npz_errors_name_key_and_row(tmp_path, arrays, message):
    path = tmp_path / "d.npz"
    path.write_bytes(_npz_bytes(**arrays))
    with pytest.raises(ConvlensError, match=message):
        load_npz(path)
