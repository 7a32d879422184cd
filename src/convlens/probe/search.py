"""The k nearest training rows of every query row: the sets KNeighborsClassifier votes with, fast.

scikit-learn's brute-force search multiplies in float64. Here the distance matrix comes from a
float32 matrix product (the CPU's fastest), and every entry carries a proven error bound. A
row's k nearest are taken from this fast pass only when the bound proves the set: every one of
the k is nearer, by more than both this product's and scikit-learn's own rounding, than every
other training row. So the set is the one scikit-learn finds too. The few rows the bound cannot
settle are redone in float64 with a much smaller bound. What is still open then is a real tie
(training rows at equal distances), and those rows are answered by KNeighborsClassifier itself,
whose tie-breaking nobody else reproduces.

Cosine k-NN (Euclidean k-NN on L2-normalised rows, as a Normalizer pipeline does it) reads its
first pass off the same float32 product: a normalised row is its row times one number, up to
one rounding per entry, and the bound widens by that rounding.

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
from sklearn.preprocessing import normalize

CHUNK = 128  # columns per partial product
ROWS_TIMES_TRAIN = 2**22  # query rows per pass x training rows: about 100 MB of float64 tables
U32, U64 = 2.0**-24, 2.0**-53


@dataclass
class NeighbourSets:
    """{k: n_query x k training-row indices}, Euclidean and cosine, and how many (row, k)
    pairs each stage settled."""

    sets: dict[int, np.ndarray]
    cosine: dict[int, np.ndarray] = field(default_factory=dict)
    settled: dict[str, int] = field(default_factory=dict)


def nearest_sets(train_x: np.ndarray, query_x: np.ndarray, ks, *, cosine_ks=()) -> NeighbourSets:
    """For each k in `ks` (and in `cosine_ks`, on L2-normalised rows), each query row's k
    nearest training rows, as a set: the indices may come in any order. Equal, as sets, to
    KNeighborsClassifier(n_neighbors=k)'s neighbours (after a Normalizer for cosine), ties
    included."""
    train = np.ascontiguousarray(train_x)
    query = np.ascontiguousarray(query_x)
    every = sorted({int(k) for k in (*ks, *cosine_ks)})
    if not every or not 1 <= every[0] <= every[-1] <= len(train):
        raise ValueError(f"every k must be in 1..{len(train)} (the training rows), got {every}")
    euclidean = _Search(train, query, ks) if len(ks) else None
    cosine = _Search(normalize(train), normalize(query), cosine_ks) if len(cosine_ks) else None
    searches = [s for s in (euclidean, cosine) if s is not None]
    total = sum(s.n_open() for s in searches)
    fast = train.dtype == np.float32 and query.dtype == np.float32
    if fast and torch.get_float32_matmul_precision() == "highest":
        # one float32 product of the rows as given serves both searches
        given = searches[0] if euclidean else _Search(train, query, ())
        _settle(train, query, [(s, s is cosine) for s in searches], given=given)
    settled = {"float32": total - sum(s.n_open() for s in searches)}
    for s in searches:  # float64, each search on its own rows
        _settle(s.train, s.query, [(s, False)], torch.float64)
    settled["float64"] = total - settled["float32"] - sum(s.n_open() for s in searches)
    settled["scikit-learn"] = sum(s.n_open() for s in searches)
    for s in searches:  # real ties: the reference decides
        s.by_reference()
    return NeighbourSets(
        euclidean.sets if euclidean else {}, cosine.sets if cosine else {}, settled
    )


def knn_predictions(train_x, train_y, query_x, ks, *, cosine_ks=()) -> dict[str, dict]:
    """{'euclidean': {k: predicted labels}, 'cosine': {k: ...}}: KNeighborsClassifier's
    predictions (uniform weights) for every k, from one search."""
    classes, encoded = np.unique(np.asarray(train_y), return_inverse=True)
    found = nearest_sets(train_x, query_x, ks, cosine_ks=cosine_ks)

    def labels(sets):
        return {k: classes[vote(encoded[ix], len(classes))] for k, ix in sets.items()}

    return {"euclidean": labels(found.sets), "cosine": labels(found.cosine)}


def vote(neighbour_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Majority label of each row's neighbours; a tie goes to the smallest class index, as in
    KNeighborsClassifier (scipy's mode)."""
    rows = np.repeat(np.arange(len(neighbour_labels)), neighbour_labels.shape[1])
    votes = np.bincount(
        rows * n_classes + neighbour_labels.ravel(), minlength=len(neighbour_labels) * n_classes
    )
    return votes.reshape(len(neighbour_labels), n_classes).argmax(1)


class _Search:
    """One k-NN problem: the rows as scikit-learn sees them, and which (row, k) are open."""

    def __init__(self, train: np.ndarray, query: np.ndarray, ks):
        self.train, self.query, self.ks = train, query, sorted({int(k) for k in ks})
        self.sets = {k: np.empty((len(query), k), dtype=np.int64) for k in self.ks}
        self.open = {k: np.arange(len(query)) for k in self.ks}
        self.x_sq = _squared_norms(torch.from_numpy(train))
        self.q_sq = _squared_norms(torch.from_numpy(query))

    def n_open(self) -> int:
        return sum(map(len, self.open.values()))

    def prove(self, here: np.ndarray, dist: torch.Tensor, error: torch.Tensor) -> None:
        """Settle every open k of the query rows `here` whose k nearest are proven: each of
        them nearer, even at the far end of its bound, than every other row at its near end."""
        nearest = torch.topk(dist, self.ks[-1], dim=1, largest=False, sorted=True).indices
        upper, lower = dist + error, dist - error
        for k in self.ks:
            chosen = nearest[:, :k]
            ok = upper.gather(1, chosen).amax(1) < lower.scatter(1, chosen, torch.inf).amin(1)
            ok = ok.numpy() & np.isin(here, self.open[k])
            self.sets[k][here[ok]] = chosen[torch.from_numpy(ok)].numpy()
            self.open[k] = np.setdiff1d(self.open[k], here[ok])

    def by_reference(self) -> None:
        for k, rows in self.open.items():
            if len(rows):
                clf = KNeighborsClassifier(n_neighbors=k).fit(self.train, np.zeros(len(self.train)))
                self.sets[k][rows] = clf.kneighbors(self.query[rows], return_distance=False)
                self.open[k] = rows[:0]


def _settle(
    train, query, searches: list[tuple[_Search, bool]], dtype=torch.float32, given=None
) -> None:
    """One pass of `dtype` products of `train` and `query` rows, for every search's open rows.
    A search flagged True holds L2-normalised copies of these rows (cosine); `given` is the
    search of the rows as they are, whose norms scale them."""
    opened = [r for s, _ in searches for r in s.open.values()]
    rows = np.unique(np.concatenate(opened)) if opened else np.array([], dtype=np.int64)
    if not len(rows):
        return
    tiny = 4 * _gamma(train.shape[1] + 2, U64)  # float64 rounding, ours and scikit-learn's
    scales = [
        (s, _scale(s.q_sq, given.q_sq), _scale(s.x_sq, given.x_sq)) if n else (s, None, None)
        for s, n in searches
    ]
    for start, product, gamma in bounded_products(train, query[rows], dtype):
        here = rows[start : start + len(product)]
        for search, q_scale, x_scale in scales:
            qh, xh = search.q_sq[here, None], search.x_sq[None]
            if q_scale is None:
                dist, widen = qh + xh - 2 * product, 0.0
            else:  # normalised rows: a row times one number, each entry rounded once
                dist, widen = (
                    qh + xh - 2 * q_scale[here, None] * x_scale[None] * product,
                    4.001 * U32,
                )
            error = 2 * (gamma + widen) * (qh * xh).sqrt() + tiny * (qh + xh)
            search.prove(here, dist, error)


def bounded_products(train: np.ndarray, query: np.ndarray, dtype=torch.float32):
    """Yields (first row, query rows x train rows products as float64, gamma) for blocks of
    query rows: each product is within gamma |q| |x| of the exact one."""
    x, q = torch.from_numpy(train), torch.from_numpy(query)
    width = x.shape[1]
    x_chunks = [x[:, s : s + CHUNK].to(dtype).contiguous() for s in range(0, width, CHUNK)]
    u = U32 if dtype == torch.float32 else U64
    gamma = _gamma(min(width, CHUNK) + 2 * math.ceil(math.log2(len(x_chunks))) + 1, u)
    step = max(1, ROWS_TIMES_TRAIN // len(x))
    for start in range(0, len(q), step):
        qb = q[start : start + step]
        product = _pairwise_sum(
            qb[:, s : s + CHUNK].to(dtype) @ xc.T
            for s, xc in zip(range(0, width, CHUNK), x_chunks, strict=True)
        )
        yield start, product.double(), gamma


def _scale(normalised_sq: torch.Tensor, sq: torch.Tensor) -> torch.Tensor:
    """|normalised row| / |row| (0 for a zero row, which normalising leaves at zero)."""
    return torch.where(sq > 0, (normalised_sq / sq.clamp_min(1e-300)).sqrt(), 0.0)


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
    """Float64 squared row norms (accumulated in float64, without a float64 copy of `x`)."""
    return torch.linalg.vector_norm(x, dim=1, dtype=torch.float64).square()


def _gamma(n: int, u: float) -> float:
    return n * u / (1 - n * u)
