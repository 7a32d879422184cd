"""How labelled images are split and shuffled: a validation split (by group when one is known),
balanced permutation classes, and the fixed shuffles validation is scored on."""

from __future__ import annotations

import numpy as np

from convlens.jigsaw.puzzle.data import content_digest
from convlens.jigsaw.puzzle.look_alike import look_alike_split
from convlens.jigsaw.puzzle.permutations import NUM_PERMUTATIONS, PERMUTATIONS
from convlens.jigsaw.puzzle.tiles import shuffle
from convlens.progress import note


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


def validation_split(
    originals: np.ndarray, fraction: float, seed: int, how: str, groups=None
) -> tuple[np.ndarray, np.ndarray]:
    """The one home of a run's split into (fit, validation) rows: whole `groups` when they
    are known; else look-alike groups (`how` "look-alike") where they leave both sides
    images; else random rows."""
    if groups is None and how == "look-alike":
        fit, val = look_alike_split(originals, fraction, seed)
        if len(fit) and len(val):
            return fit, val
        note(
            f"the look-alike validation split found no groups that leave images on both sides "
            f"among {len(originals)} images (are they all alike?); the validation rows are "
            "drawn at random instead"
        )
    return split_train_val(len(originals), fraction, seed, groups=groups)


def labelled_digest(images: np.ndarray, orders: np.ndarray, groups=None) -> str:
    """The digest a run keeps of what it trained on (the labelled images, their orders and
    groups): resuming checks it, and evaluation reads the run's validation rows only when the
    data it is given has the same digest."""
    arrays = {"images": images, "orders": orders}
    if groups is not None:
        arrays["groups"] = np.unique(groups, return_inverse=True)[1]
    return content_digest(arrays)


def fixed_shuffles(originals: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic shuffled copy of `originals` and its classes, for validation."""
    classes = balanced_classes(len(originals), np.random.default_rng(seed + 7919))
    return shuffle(originals, PERMUTATIONS[classes]), classes
