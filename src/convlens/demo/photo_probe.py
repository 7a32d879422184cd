"""An in-domain labelled set for the probe, as in the exam (3c's images look like 3b's): one
class per photograph, training crops from one half of it and test crops from the other half,
so no test pixel was ever seen in training. The de-shuffling network for this probe is trained
on puzzles from the *other* photographs (`split_photographs`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convlens.demo.jigsaw_data import collect_photographs, make_jigsaw_arrays
from convlens.demo.photos import random_crops
from convlens.jigsaw.puzzle.data import NpzData, Split

MIN_PUZZLE_PHOTOS = 6


def split_photographs(
    photos: dict[str, np.ndarray], n_classes: int = 40, seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(probe photographs, puzzle photographs): disjoint, chosen by a seeded shuffle. The probe
    takes up to `n_classes`, leaving at least half (and MIN_PUZZLE_PHOTOS) for the puzzles."""
    names = sorted(photos)
    np.random.default_rng(seed).shuffle(names)
    n = max(2, min(n_classes, len(names) - max(MIN_PUZZLE_PHOTOS, len(names) // 2)))
    probe, puzzles = names[:n], names[n:]
    return {k: photos[k] for k in probe}, {k: photos[k] for k in puzzles}


def halves(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The photograph cut across its longer side: (first half, second half)."""
    h, w = photo.shape[:2]
    if w >= h:
        return photo[:, : w // 2], photo[:, w // 2 :]
    return photo[: h // 2], photo[h // 2 :]


def make_photo_probe(
    photos: dict[str, np.ndarray],
    *,
    n_train: int = 30,
    n_test: int = 10,
    size: int = 96,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """DataNormal.npz's layout (a, b, c, d) plus 'names' (the class of each id) and
    'source_train' (the region each training crop comes from): per photograph, `n_train` crops
    of one half (which half is drawn per photograph), half of them from each of its two
    quarters, and `n_test` crops of the other half. The quarters let a validation split hold
    out a region instead of crops that overlap the ones it is compared with."""
    rng = np.random.default_rng(seed)
    names = sorted(photos)
    xs, ys, regions = {"train": [], "test": []}, {"train": [], "test": []}, []
    for label, name in enumerate(names):
        first, second = halves(photos[name])
        train_half, test_half = (first, second) if rng.random() < 0.5 else (second, first)
        for q, quarter in enumerate(halves(train_half)):
            count = n_train // 2 + (q < n_train % 2)
            xs["train"] += list(random_crops(quarter, count, size, rng, min_frac=0.5))
            regions += [f"{name}:{q}"] * count
        ys["train"] += [label] * n_train
        xs["test"] += list(random_crops(test_half, n_test, size, rng, min_frac=0.5))
        ys["test"] += [label] * n_test
    return {
        "a": np.stack(xs["train"]),
        "b": np.array(ys["train"], dtype=np.int64),
        "c": np.stack(xs["test"]),
        "d": np.array(ys["test"], dtype=np.int64),
        "names": np.array(names),
        "source_train": np.array(regions),
    }


def as_npz_data(arrays: dict, source: str, kind: str) -> NpzData:
    """Arrays in the exam's layout as loaded data; 'source_train' becomes the training groups
    (crops of one photograph or region), which validation splits then keep together."""

    def split(x, y, groups=None):
        known = np.ones(len(x), bool) if kind == "orders" else None
        return Split(x, y, known, groups)

    train = split(arrays["a"], arrays["b"], arrays.get("source_train"))
    return NpzData(train, split(arrays["c"], arrays["d"]), source, "uint8")


def photo_study_data(
    folders: list[Path],
    n_train: int,
    n_test: int,
    per_train: int,
    per_test: int,
    *,
    seed: int = 0,
    extra: dict[str, np.ndarray] | None = None,
) -> tuple[NpzData, NpzData]:
    """(puzzles, labelled probe) from disjoint photographs: the bundled ones, every image in
    `folders` and the `extra` photographs (e.g. the exam's problem2 images). Puzzles are split
    by photograph; the probe has one class per photograph, train and test crops from opposite
    halves."""
    probe_photos, puzzle_photos = split_photographs(collect_photographs(folders, extra), seed=seed)
    arrays = make_jigsaw_arrays(puzzle_photos, n_train=n_train, n_test=n_test, seed=seed)
    shuffled = as_npz_data(
        arrays, f"random 96x96 crops of {len(puzzle_photos)} photographs", "orders"
    )
    probe = make_photo_probe(probe_photos, n_train=per_train, n_test=per_test, seed=seed)
    normal = as_npz_data(
        probe,
        f"{len(probe_photos)} other photographs, one class each, with training and test crops "
        "from opposite halves of each photograph",
        "classes",
    )
    return shuffled, normal
