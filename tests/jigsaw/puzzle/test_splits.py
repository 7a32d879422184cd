"""convlens.jigsaw.puzzle.splits: validation held out by photograph."""

import numpy as np

from convlens.jigsaw import deshuffle


def test_data_is_split_by_photograph(photo_arrays):
    assert not set(photo_arrays["source_train"]) & set(photo_arrays["source_test"])
    np.testing.assert_array_equal(
        deshuffle(photo_arrays["a"], photo_arrays["b"]), photo_arrays["orig_train"]
    )
