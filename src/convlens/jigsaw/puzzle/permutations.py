"""The 24 orderings of a 2x2 grid's tiles, as class ids.

An `order` is a permutation of 0..3 over tiles numbered in raster order (0 top-left,
1 top-right, 2 bottom-left, 3 bottom-right). Exam semantics (DATA.md): de-shuffling moves tile
i of the shuffled image to position order[i]; shuffling an original with `order` therefore puts
the original tile at position order[i] into slot i.
"""

from __future__ import annotations

import itertools

import numpy as np

from convlens.errors import ConvlensError

PERMUTATIONS = np.array(list(itertools.permutations(range(4))), dtype=np.int64)  # 24 x 4
NUM_PERMUTATIONS = len(PERMUTATIONS)
_INDEX = {tuple(p): i for i, p in enumerate(PERMUTATIONS.tolist())}


def validate_orders(orders, name: str = "orders") -> np.ndarray:
    """N x 4 integer array of permutations of 0..3, or an error naming the first bad row."""
    arr = np.asarray(orders)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ConvlensError(f"{name} must have shape (N, 4), got {arr.shape}")
    real = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    if arr.size and not real:
        raise ConvlensError(f"{name}: expected integer orders, got {arr.dtype}")
    if arr.size and not np.all(np.isfinite(arr.astype(np.float64))):
        bad = int(np.flatnonzero(~np.isfinite(arr.astype(np.float64)).all(1))[0])
        raise ConvlensError(f"{name} row {bad} is not a permutation of 0..3: {arr[bad].tolist()}")
    as_int = arr.astype(np.int64)
    if arr.size and (not np.array_equal(as_int, arr) or np.any(np.sort(as_int, 1) != np.arange(4))):
        bad_rows = np.flatnonzero(
            (np.sort(as_int, 1) != np.arange(4)).any(1) | (as_int != arr).any(1)
        )
        bad = int(bad_rows[0])
        raise ConvlensError(f"{name} row {bad} is not a permutation of 0..3: {arr[bad].tolist()}")
    return as_int


def orders_to_classes(orders) -> np.ndarray:
    orders = validate_orders(orders)
    # Lehmer-style index through a lookup table: 24 entries, so a dict is fastest and clearest.
    return np.array([_INDEX[tuple(o)] for o in orders.tolist()], dtype=np.int64)


def classes_to_orders(classes) -> np.ndarray:
    classes = np.asarray(classes, dtype=np.int64)
    if classes.size and (classes.min() < 0 or classes.max() >= NUM_PERMUTATIONS):
        raise ConvlensError(
            f"permutation class ids must be in 0..23, got {classes.min()}..{classes.max()}"
        )
    return PERMUTATIONS[classes]


def inverse(orders: np.ndarray) -> np.ndarray:
    """inv[order[i]] = i, row-wise."""
    orders = np.asarray(orders)
    inv = np.empty_like(orders)
    np.put_along_axis(inv, orders, np.arange(4)[None].repeat(len(orders), 0), axis=1)
    return inv


def compose(first: np.ndarray, then: np.ndarray) -> np.ndarray:
    """The order equivalent to shuffling with `first`, then shuffling the result with `then`.

    shuffle(shuffle(x, s), p)[i] = shuffle(x, s)[p[i]] = x[s[p[i]]], so the result is s[p].
    """
    return np.take_along_axis(np.asarray(first), np.asarray(then), axis=1)


# COMPOSE[s, p] = class of compose(s, p): used to map test-time re-shuffles back.
COMPOSE = np.array(
    [
        [_INDEX[tuple(PERMUTATIONS[s][PERMUTATIONS[p]].tolist())] for p in range(24)]
        for s in range(24)
    ]
)


def correct_positions(pred_orders, true_orders) -> np.ndarray:
    """Per image, how many of the four tiles the predicted order puts in the right place."""
    return (np.asarray(pred_orders) == np.asarray(true_orders)).sum(1)
