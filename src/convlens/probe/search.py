"""The k nearest training rows of every query row: the sets KNeighborsClassifier votes with, fast.

scikit-learn's brute-force search multiplies in float64. Here the distance matrix comes from a
float32 matrix product (about twice as fast), and every entry carries a proven error bound. A
row's k nearest are taken from this fast pass only when the bound proves the set: every one of
the k is nearer, by more than both this product's and scikit-learn's own rounding, than every
other training row. So the set is the one scikit-learn finds too. The few rows the bound cannot
settle are redone in float64 with a much smaller bound. What is still open then is a real tie
(training rows at equal distances), and those rows are answered by KNeighborsClassifier itself,
whose tie-breaking nobody else reproduces.

The bound (Higham, *Accuracy and Stability of Numerical Algorithms*, ch. 3) holds for sums in
any order: a sum of n products is off by at most gamma_n = n u / (1 - n u) times the sum of
their absolute values, which is at most |q| |x|. Each block of `CHUNK` columns is a separate
matrix product and the blocks' results are added as a binary tree, so n is `CHUNK` plus twice
log2 of the number of blocks instead of the full width: for raw 96 x 96 pixels 145 instead of
27,648, which leaves about 2 % of the (row, k) pairs to float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.neighbors import KNeighborsClassifier

CHUNK = 128  # columns per partial product
ROWS_TIMES_TRAIN = 2**22  # query rows per pass x training rows: about 100 MB of float64 tables


@dataclass
class NeighbourSets:
    """{k: n_query x k training-row indices} and how many (row, k) pairs each stage settled."""

    sets: dict[int, np.ndarray]
    settled: dict[str, int] = field(default_factory=dict)


def nearest_sets(train_x: np.ndarray, query_x: np.ndarray, ks) -> NeighbourSets:
    """For each k in `ks`, each query row's k nearest training rows (Euclidean), as a set: the
    indices may come in any order. Equal, as sets, to KNeighborsClassifier(n_neighbors=k)'s
    neighbours, ties included."""
    train = np.ascontiguousarray(train_x)
    query = np.ascontiguousarray(query_x)
    ks = sorted({int(k) for k in ks})
    if not 1 <= ks[0] <= ks[-1] <= len(train):
        raise ValueError(f"every k must be in 1..{len(train)} (the training rows), got {ks}")
    sets = {k: np.empty((len(query), k), dtype=np.int64) for k in ks}
    open_ = {k: np.arange(len(query)) for k in ks}  # rows whose k-set is not yet proven
    settled = {}
    fast = train.dtype == np.float32 and query.dtype == np.float32
    for stage, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        before = sum(map(len, open_.values()))
        if stage == "float64" or (fast and torch.get_float32_matmul_precision() == "highest"):
            open_ = _settle(train, query, open_, sets, dtype)
        settled[stage] = before - sum(map(len, open_.values()))
    for k, rows in open_.items():  # real ties: the reference decides
        if len(rows):
            clf = KNeighborsClassifier(n_neighbors=k).fit(train, np.zeros(len(train)))
            sets[k][rows] = clf.kneighbors(query[rows], return_distance=False)
    settled["scikit-learn"] = sum(map(len, open_.values()))
    return NeighbourSets(sets, settled)


def knn_predictions(train_x, train_y, query_x, ks) -> dict[int, np.ndarray]:
    """{k: predicted label of every query row}: KNeighborsClassifier(n_neighbors=k)'s
    predictions (uniform weights), from one search for all k."""
    classes, encoded = np.unique(np.asarray(train_y), return_inverse=True)
    found = nearest_sets(train_x, query_x, ks).sets
    return {k: classes[vote(encoded[ix], len(classes))] for k, ix in found.items()}


def vote(neighbour_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Majority label of each row's neighbours; a tie goes to the smallest class index, as in
    KNeighborsClassifier (scipy's mode)."""
    rows = np.repeat(np.arange(len(neighbour_labels)), neighbour_labels.shape[1])
    votes = np.bincount(
        rows * n_classes + neighbour_labels.ravel(), minlength=len(neighbour_labels) * n_classes
    )
    return votes.reshape(len(neighbour_labels), n_classes).argmax(1)


def _settle(train, query, open_: dict, sets: dict, dtype) -> dict:
    """Fill `sets` for the (row, k) pairs the bound settles at this precision; return the
    rows still open for each k."""
    rows = np.unique(np.concatenate(list(open_.values())))
    if not len(rows):
        return open_
    ks = sorted(open_)
    x = torch.from_numpy(train)
    q = torch.from_numpy(query[rows])
    x_sq, q_sq = _squared_norms(x), _squared_norms(q)
    width = x.shape[1]
    x_chunks = [x[:, s : s + CHUNK].to(dtype).contiguous() for s in range(0, width, CHUNK)]
    u = 2.0**-24 if dtype == torch.float32 else 2.0**-53
    gamma = _gamma(min(width, CHUNK) + 2 * math.ceil(math.log2(len(x_chunks))) + 1, u)
    # scikit-learn's float64 distances are off by at most this much from the exact ones, and
    # so are the float64 squared norms and sums here; the margin covers both
    tiny = 4 * _gamma(width + 2, 2.0**-53)
    proven = {k: np.zeros(len(rows), dtype=bool) for k in ks}
    step = max(1, ROWS_TIMES_TRAIN // len(x))
    for start in range(0, len(q), step):
        here = rows[start : start + step]
        qb = q[start : start + step]
        product = _pairwise_sum(
            qb[:, s : s + CHUNK].to(dtype) @ xc.T
            for s, xc in zip(range(0, width, CHUNK), x_chunks, strict=True)
        ).double()
        qs = q_sq[start : start + step, None]
        dist = qs + x_sq[None] - 2 * product
        error = 2 * gamma * qs.sqrt() * x_sq.sqrt()[None] + tiny * (qs + x_sq[None])
        nearest = torch.topk(dist, ks[-1], dim=1, largest=False, sorted=True).indices
        upper, lower = dist + error, dist - error
        for k in ks:
            chosen = nearest[:, :k]
            ok = upper.gather(1, chosen).amax(1) < lower.scatter(1, chosen, torch.inf).amin(1)
            ok = ok.numpy() & np.isin(here, open_[k])
            sets[k][here[ok]] = chosen[torch.from_numpy(ok)].numpy()
            proven[k][start : start + step] = ok
    return {k: np.setdiff1d(open_[k], rows[proven[k]]) for k in ks}


def _pairwise_sum(parts) -> torch.Tensor:
    """Sum as a binary tree, holding at most log2(n) partial sums: every part passes through
    at most 2 log2(n) additions, so rounding grows with log n instead of n."""
    stack: list[tuple[int, torch.Tensor]] = []
    for part in parts:
        level = 0
        while stack and stack[-1][0] == level:
            part = stack.pop()[1].add_(part)
            level += 1
        stack.append((level, part))
    total = stack.pop()[1]
    while stack:
        total = total.add_(stack.pop()[1])
    return total


def _squared_norms(x: torch.Tensor) -> torch.Tensor:
    """Float64 squared row norms, a few hundred rows at a time (no float64 copy of `x`)."""
    return torch.cat([r.double().square().sum(1) for r in x.split(256)])


def _gamma(n: int, u: float) -> float:
    return n * u / (1 - n * u)
