"""Groups of look-alike images, for a validation split when the photographs the puzzles were
cut from are unknown (the exam's files say nothing about them).

Many crops of a few photographs put near-copies on both sides of a random split, and validation
then overstates what the network does on photographs it never saw. Crops of one photograph
share its colours, so images are grouped by their colour distribution (a 4x4x4 RGB histogram,
square-rooted so that distances are Hellinger distances) with k-means, and validation holds out
whole groups."""

from __future__ import annotations

import numpy as np

BINS = 4  # per channel: 64 colours, coarse enough that crops of one scene share them
GROUP_SIZE = 150  # images per group on average
ITERATIONS = 25


def colour_signatures(originals: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """N x 64 square roots of each image's colour histogram (N x 3 x H x W, 0-255)."""
    n = len(originals)
    out = np.zeros((n, BINS**3), dtype=np.float32)
    for start in range(0, n, chunk):
        x = np.asarray(originals[start : start + chunk])
        q = np.clip(x.astype(np.int64) * BINS // 256, 0, BINS - 1)  # uint8 or float 0-255
        colour = (q[:, 0] * BINS + q[:, 1]) * BINS + q[:, 2]  # n x H x W
        flat = colour.reshape(len(x), -1) + (np.arange(len(x)) * BINS**3)[:, None]
        counts = np.bincount(flat.ravel(), minlength=len(x) * BINS**3).reshape(len(x), -1)
        counts = counts.astype(np.float32)
        out[start : start + len(x)] = np.sqrt(counts / colour[0].size)
    return out


def look_alike_groups(
    originals: np.ndarray, seed: int = 0, group_size: int = GROUP_SIZE
) -> np.ndarray:
    """A group id per image: k-means (k-means++ start, seeded) on the colour signatures, about
    GROUP_SIZE images per group and at least 10 groups."""
    x = colour_signatures(originals)
    n = len(x)
    k = int(min(n, max(10, round(n / group_size))))
    rng = np.random.default_rng(seed)
    centres = _kmeans_plus_plus(x, k, rng)
    for _ in range(ITERATIONS):
        labels = _nearest(x, centres)
        new = np.stack(
            [x[labels == j].mean(0) if (labels == j).any() else centres[j] for j in range(k)]
        )
        if np.allclose(new, centres):
            break
        centres = new
    return _nearest(x, centres)


def _nearest(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d = (x**2).sum(1, keepdims=True) - 2 * x @ centres.T + (centres**2).sum(1)
    return d.argmin(1)


def _kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Centres drawn one by one, each with probability proportional to its squared distance
    from the nearest centre so far (Arthur and Vassilvitskii 2007)."""
    centres = [x[rng.integers(len(x))]]
    d = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = d.sum()
        i = rng.choice(len(x), p=d / total) if total > 0 else rng.integers(len(x))
        centres.append(x[i])
        d = np.minimum(d, ((x - x[i]) ** 2).sum(1))
    return np.stack(centres)


def look_alike_split(
    originals: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (fit, validation) rows: whole look-alike groups, taken in a seeded random order
    until they hold the nearest to `fraction` of the images (groups differ in size: counting
    images rather than groups keeps the validation set near its intended size)."""
    groups = look_alike_groups(originals, seed)
    names, sizes = np.unique(groups, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(names))
    total = np.cumsum(sizes[order])
    n_groups = int(np.argmin(np.abs(total - fraction * len(groups)))) + 1  # nearest the size
    held = np.isin(groups, names[order[:n_groups]])
    if held.all():  # a single group: nothing would be left to train on
        return np.flatnonzero(held), np.array([], dtype=np.int64)
    return np.flatnonzero(~held), np.flatnonzero(held)
