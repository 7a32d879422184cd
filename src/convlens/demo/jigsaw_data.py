"""Exam-format jigsaw data (DataShuffled.npz layout) built from real photographs.

Random 96x96 crops are cut from each photograph and shuffled with random orders. Train and
test are split by source photograph, so no photograph contributes to both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convlens.demo.photos import bundled_photographs, folder_photographs, random_crops
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS
from convlens.jigsaw.puzzle.tiles import shuffle


def collect_photographs(
    extra_folders: list[Path] | None = None, extra: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """The bundled photographs, every image of `extra_folders`, and `extra` (by name)."""
    photos = bundled_photographs()
    for folder in extra_folders or []:
        if Path(folder).is_dir():
            photos.update(folder_photographs(folder))
    photos.update(extra or {})
    return photos


def make_jigsaw_arrays(
    photos: dict[str, np.ndarray],
    *,
    n_train: int = 5000,
    n_test: int = 1000,
    test_fraction: float = 0.2,
    size: int = 96,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """{'a': x_train, 'b': y_train, 'c': x_test, 'd': y_test} in the exam's layout, plus the
    unshuffled crops ('orig_train', 'orig_test') and the source photograph of each crop."""
    rng = np.random.default_rng(seed)
    names = sorted(photos)
    rng.shuffle(names)
    n_test_photos = max(1, int(round(len(names) * test_fraction)))
    groups = {"test": names[:n_test_photos], "train": names[n_test_photos:]}
    out = {}
    for split, count in (("train", n_train), ("test", n_test)):
        group = groups[split]
        per_photo = np.resize(np.arange(len(group)), count)  # round-robin over photographs
        crops, source = [], []
        for j, name in enumerate(group):
            k = int((per_photo == j).sum())
            crops += list(random_crops(photos[name], k, size, rng))
            source += [name] * k
        crops = np.stack(crops)
        orders = PERMUTATIONS[rng.integers(0, len(PERMUTATIONS), size=len(crops))]
        key_x, key_y = ("a", "b") if split == "train" else ("c", "d")
        out[key_x] = shuffle(crops, orders)
        out[key_y] = orders
        out[f"orig_{split}"] = crops
        out[f"source_{split}"] = np.array(source)
    return out
