"""How labelled images are split and shuffled: a validation split (by group when one is known),
balanced permutation classes, and the fixed shuffles validation is scored on."""

from __future__ import annotations

import numpy as np

from convlens.jigsaw.permutations import NUM_PERMUTATIONS, PERMUTATIONS
from convlens.jigsaw.tiles import shuffle


def balanced_classes(n: int, rng: np.random.Generator) -> np.ndarray:
    """n permutation classes, each of the 24 used equally often (up to one), in random order."""
    return rng.permutation(np.resize(np.arange(NUM_PERMUTATIONS), n))


def distinct_classes(n: int, per_image: int, rng: np.random.Generator) -> np.ndarray:
    """n * per_image classes: for each image, `per_image` different orders, drawn at random."""
    return np.argsort(rng.random((n, NUM_PERMUTATIONS)), axis=1)[:, :per_image].reshape(-1)


def split_train_val(
    n: int, fraction: float, seed: int, *, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, validation) indices. With `groups` (e.g. the source photograph of each
    crop), whole groups go to validation, so it never shares a photograph with training."""
    if groups is not None:
        names = np.unique(groups)
        order = np.random.default_rng(seed).permutation(len(names))
        n_val = min(len(names) - 1, max(1, int(round(len(names) * fraction))))
        held = np.isin(groups, names[order[:n_val]])
        return np.flatnonzero(~held), np.flatnonzero(held)
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * fraction))) if fraction > 0 else 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def fixed_shuffles(originals: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic shuffled copy of `originals` and its classes, for validation."""
    classes = balanced_classes(len(originals), np.random.default_rng(seed + 7919))
    return shuffle(originals, PERMUTATIONS[classes]), classes
