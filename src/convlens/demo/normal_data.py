"""A labelled set in DataNormal.npz's layout from real images available offline: scikit-learn's
1,797 handwritten digits (10 classes), upscaled to the jigsaw network's input size in colour;
and puzzles cut from the same digits, for an in-domain probe whose classes are shapes."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from convlens.demo.photo_probe import as_npz_data
from convlens.jigsaw.puzzle.data import NpzData
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS
from convlens.jigsaw.puzzle.tiles import shuffle


def make_digits_normal(size: int = 96, test_fraction: float = 0.3, seed: int = 0) -> dict:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = (x.clamp(0, 1) * 255).round().to(torch.uint8).repeat(1, 3, 1, 1).numpy()
    y = digits.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    test, train = perm[:n_test], perm[n_test:]
    return {"a": x[train], "b": y[train], "c": x[test], "d": y[test]}


def digit_study_data(
    size: int = 96, limit: tuple[int, int] | None = None, seed: int = 0
) -> tuple[NpzData, NpzData]:
    """(puzzles, labelled probe) whose classes are shapes, not photographs: the digits of
    `make_digits_normal`, each also cut into a puzzle in a seeded random order. The networks
    train on puzzles of the probe's training digits and are tested on puzzles of its test
    digits, as the exam's DataShuffled and DataNormal may share images. `limit` keeps the first
    (training, test) digits of each split, for a quick run."""
    digits = make_digits_normal(size=size, seed=seed)
    if limit is not None:
        digits = {k: v[: limit[0] if k in "ab" else limit[1]] for k, v in digits.items()}
    n = len(digits["a"])
    rng = np.random.default_rng(seed)
    orders = PERMUTATIONS[rng.integers(0, 24, n + len(digits["c"]))]
    puzzles = {
        "a": shuffle(digits["a"], orders[:n]),
        "b": orders[:n],
        "c": shuffle(digits["c"], orders[n:]),
        "d": orders[n:],
    }
    return (
        as_npz_data(puzzles, f"puzzles cut from {n} handwritten digits", "orders"),
        as_npz_data(digits, f"scikit-learn's handwritten digits at {size}x{size}", "classes"),
    )
