"""convlens.jigsaw.puzzle.look_alike: colour signatures against a plain loop, and a split that keeps
crops of one photograph together far more often than random rows do (real photographs)."""

import numpy as np
import pytest

from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs
from convlens.jigsaw.puzzle.look_alike import (
    BINS,
    colour_signatures,
    look_alike_groups,
    look_alike_split,
)
from convlens.jigsaw.puzzle.splits import split_train_val, validation_split


@pytest.fixture(scope="module")
def crops():
    arrays = make_jigsaw_arrays(bundled_photographs(), n_train=600, n_test=24, size=32, seed=0)
    return arrays["orig_train"], np.asarray(arrays["source_train"])


def test_signatures_equal_a_histogram_counted_pixel_by_pixel(crops):
    images = crops[0][:5]
    fast = colour_signatures(images, chunk=2)
    for img, row in zip(images, fast, strict=True):
        counts = np.zeros(BINS**3)
        for r, g, b in img.reshape(3, -1).T:
            counts[
                (int(r) * BINS // 256 * BINS + int(g) * BINS // 256) * BINS + int(b) * BINS // 256
            ] += 1
        np.testing.assert_allclose(row, np.sqrt(counts / counts.sum()), atol=1e-6)


def test_groups_are_seeded_and_the_split_holds_about_its_fraction(crops):
    images, _ = crops
    np.testing.assert_array_equal(look_alike_groups(images, 3), look_alike_groups(images, 3))
    fit, val = look_alike_split(images, 0.1, seed=0)
    assert not set(fit) & set(val) and len(fit) + len(val) == len(images)
    assert 0.05 * len(images) <= len(val) <= 0.15 * len(images)
    groups = look_alike_groups(images, 0)
    assert not set(groups[fit]) & set(groups[val])  # whole groups


def test_look_alike_keeps_a_photographs_crops_together_more_than_random_rows(crops):
    images, source = crops

    def share_on_fit_side(fit, val):
        in_fit = np.isin(np.arange(len(source)), fit)
        return np.mean([in_fit[source == s].mean() for s in source[val]])

    alike = share_on_fit_side(*look_alike_split(images, 0.1, seed=0))
    rows = share_on_fit_side(*split_train_val(len(images), 0.1, 0))
    assert rows > 0.8 and alike < rows - 0.2


def test_the_split_dispatch(crops):
    images, source = crops
    by_photo = validation_split(images, 0.1, 0, "look-alike", groups=source)
    np.testing.assert_array_equal(
        by_photo[1], split_train_val(len(images), 0.1, 0, groups=source)[1]
    )
    np.testing.assert_array_equal(
        validation_split(images, 0.1, 0, "random")[1], split_train_val(len(images), 0.1, 0)[1]
    )
    np.testing.assert_array_equal(
        validation_split(images, 0.1, 0, "look-alike")[1], look_alike_split(images, 0.1, 0)[1]
    )


def test_thirty_identical_images_fall_back_to_random_rows_and_say_so(crops, capsys):
    """issue 42: the fallback was silent."""
    same = np.repeat(crops[0][:1], 30, axis=0)
    fit, val = validation_split(same, 0.1, 0, "look-alike")
    np.testing.assert_array_equal(val, split_train_val(30, 0.1, 0)[1])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("note: the look-alike validation split found no")
    validation_split(crops[0], 0.1, 0, "look-alike")  # groups found: nothing to say
    assert capsys.readouterr().err == ""
