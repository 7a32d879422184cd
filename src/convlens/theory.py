"""Problem 1: cross-entropy between a stochastic vector and a one-hot label.

The derivations in prose are in ``docs/theory.md``; every claim made there is computed or checked
here, and the tests compare each function against an independent oracle (a plain loop, torch's
``nll_loss``, scipy's optimisers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from convlens.errors import ConvlensError

STOCHASTIC_ATOL = 1e-6


def _as_vector(name: str, v) -> np.ndarray:
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2:
        raise ConvlensError(f"{name} must be a vector of length >= 2, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConvlensError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def check_stochastic(z, name: str = "z", atol: float = STOCHASTIC_ATOL) -> np.ndarray:
    """Return z as a float vector if it is stochastic (entries >= 0 summing to 1), else raise."""
    z = _as_vector(name, z)
    if np.any(z < 0):
        raise ConvlensError(f"{name} is not stochastic: negative entry {z.min():g} at {z.argmin()}")
    if abs(z.sum() - 1.0) > atol:
        raise ConvlensError(f"{name} is not stochastic: entries sum to {z.sum():.9g}, expected 1")
    return z


def check_one_hot(y, name: str = "y") -> np.ndarray:
    """Return y as a float vector if it is one-hot (a single 1, zeros elsewhere), else raise."""
    y = _as_vector(name, y)
    if not np.all((y == 0) | (y == 1)) or y.sum() != 1:
        raise ConvlensError(f"{name} is not one-hot: {y.tolist()}")
    return y


def cross_entropy(z, y) -> float:
    """CE(z; y) = -sum_k y_k log z_k for a stochastic z and a one-hot y (1a).

    With y one-hot at class c the sum has a single non-zero term, so CE = -log z_c. A zero
    probability on the true class gives +inf (the limit), not NaN.
    """
    z = check_stochastic(z)
    y = check_one_hot(y)
    if z.shape != y.shape:
        raise ConvlensError(f"z and y must have the same length, got {z.size} and {y.size}")
    c = int(np.argmax(y))
    return math.inf if z[c] == 0 else -math.log(z[c])


def raw_cross_entropy(z, y) -> float:
    """The CE formula applied without any check: what (1b) shows goes wrong.

    Zero-weighted terms are skipped, as in the one-hot simplification.
    """
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y != 0, -y * np.log(np.where(y != 0, z, 1.0)), 0.0)
    return float(terms.sum())


@dataclass(frozen=True)
class NonStochasticRow:
    z: list[float]
    ce: float
    comment: str


@dataclass(frozen=True)
class MinimiserRow:
    penalty: str
    closed_form: str
    z: list[float]
    z_numerical: list[float]
    objective: float
    abs_diff: float


@dataclass(frozen=True)
class CeExample:
    z: list[float]
    y: list[int]
    ce: float


@dataclass(frozen=True)
class DatasetCe:
    n: int
    vectorised: float
    loop: float
    operations: int


@dataclass(frozen=True)
class Agreement:
    abs_diff: float
    agree: bool


@dataclass(frozen=True)
class TheoryChecks:
    none: Agreement
    l2: Agreement
    l1: Agreement
    dataset_ce_2n_operations: bool

    @property
    def all_agree(self) -> bool:
        return all(c.agree for c in (self.none, self.l2, self.l1)) and self.dataset_ce_2n_operations


@dataclass(frozen=True)
class TheoryResults:
    """Problem 1's numbers: results.json's "problem1" section and `convlens theory --json`."""

    weight: float
    ce_example: CeExample
    non_stochastic: list[NonStochasticRow]
    dataset_ce: DatasetCe
    argmin_none: list[float]
    argmin_l2: list[float]
    argmin_l1: list[float]
    minimisers: list[MinimiserRow]
    checks: TheoryChecks


def non_stochastic_examples() -> list[NonStochasticRow]:
    """(1b): rows of (z, raw CE) showing why z must lie on the simplex.

    Scaling the true-class entry above 1 makes the "loss" negative and unbounded below, so a
    minimiser would push z_0 to infinity instead of learning; a negative entry makes log
    undefined (NaN); and a vector whose entries do not sum to one carries no probability meaning,
    so two outputs can get the same loss while expressing different beliefs.
    """
    y = (1.0, 0.0)
    rows = []
    for z, what in [
        ((1.0, 0.0), "stochastic: the minimum of a proper CE is 0"),
        ((2.0, 0.0), "sum 2: loss already negative"),
        ((1e3, 0.0), "sum 1000: loss -> -inf as z0 grows"),
        ((1e100, 5.0), "unbounded below: no minimiser exists"),
        ((-0.5, 1.5), "negative entry: log undefined"),
        ((0.5, 0.5), "stochastic reference"),
        ((0.5, 7.0), "same loss as (0.5, 0.5) yet z1 is meaningless"),
    ]:
        rows.append(NonStochasticRow(list(z), raw_cross_entropy(z, y), what))
    return rows


def _check_probs_labels(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    t = np.asarray(labels)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ConvlensError(f"probs must have shape (N, K) with K >= 2, got {p.shape}")
    if t.ndim != 1 or t.shape[0] != p.shape[0]:
        raise ConvlensError(f"labels must have shape ({p.shape[0]},), got {t.shape}")
    if t.size and not np.issubdtype(t.dtype, np.integer):
        raise ConvlensError(f"labels must be integer class ids, got dtype {t.dtype}")
    if t.size and (t.min() < 0 or t.max() >= p.shape[1]):
        bad = int(np.flatnonzero((t < 0) | (t >= p.shape[1]))[0])
        raise ConvlensError(f"labels[{bad}] = {t[bad]} is out of range 0..{p.shape[1] - 1}")
    if not np.all(np.isfinite(p)):
        raise ConvlensError("probs contains NaN or inf")
    if np.any(p < 0):
        raise ConvlensError("probs is not stochastic: it has negative entries")
    sums = p.sum(axis=1)
    if np.any(np.abs(sums - 1) > STOCHASTIC_ATOL):
        bad = int(np.flatnonzero(np.abs(sums - 1) > STOCHASTIC_ATOL)[0])
        raise ConvlensError(f"probs row {bad} is not stochastic: it sums to {sums[bad]:.9g}")
    return p, t


def dataset_cross_entropy(probs, labels) -> float:
    """Summed CE of N samples in 2N operations (1c).

    Pseudo-code (indexing is free; one log and one accumulate per sample)::

        loss <- 0
        for i in 1..N:
            loss <- loss - log(P[i, y_i])      # 1 log + 1 subtraction

    Python one-liner: ``-np.log(P[np.arange(N), y]).sum()``.
    """
    p, t = _check_probs_labels(probs, labels)
    with np.errstate(divide="ignore"):
        return float(-np.log(p[np.arange(t.size), t]).sum())


def dataset_cross_entropy_loop(probs, labels) -> tuple[float, int]:
    """The pseudo-code of (1c) run literally, counting its operations: returns (loss, ops)."""
    p, t = _check_probs_labels(probs, labels)
    loss, ops = 0.0, 0
    for i in range(t.size):
        log_p = math.log(p[i, t[i]]) if p[i, t[i]] > 0 else -math.inf
        ops += 1
        loss -= log_p
        ops += 1
    return loss, ops


# --- (1d): minimisers over the simplex -------------------------------------------------------


@dataclass(frozen=True)
class Minimiser:
    """argmin over stochastic z = (z0, 1 - z0) of CE(z; (1, 0)) + weight * penalty(z)."""

    penalty: str  # "none", "l2" or "l1"
    weight: float
    z: tuple[float, float]
    exact: str  # closed form as an expression
    objective: float


def objective(z0: float, penalty: str, weight: float = 1.0) -> float:
    """CE + weight * penalty at z = (z0, 1 - z0) with y = (1, 0)."""
    z = np.array([z0, 1.0 - z0])
    ce = math.inf if z0 <= 0 else -math.log(z0)
    return ce + weight * _penalty(z, penalty)


def _penalty(z: np.ndarray, penalty: str) -> float:
    if penalty == "none":
        return 0.0
    if penalty == "l2":
        return float(np.sum(z**2))
    if penalty == "l1":
        return float(np.sum(np.abs(z)))
    raise ConvlensError(f"penalty must be 'none', 'l2' or 'l1', got {penalty!r}")


def closed_form_minimiser(penalty: str, weight: float = 1.0) -> Minimiser:
    """The exact minimiser, derived in docs/theory.md.

    none: -log z0 decreases on (0, 1], so z = (1, 0).
    l1:   ||z||_1 = 1 on the whole simplex, a constant, so again z = (1, 0).
    l2:   d/dz0 [-log z0 + w(z0^2 + (1 - z0)^2)] = 0  <=>  4w z0^2 - 2w z0 - 1 = 0, whose positive
          root is z0 = (w + sqrt(w^2 + 4w)) / (4w); for w = 1 that is (1 + sqrt 5) / 4. The root
          lies in (0, 1] only for w >= 1/2: below that the derivative 2w - 1 at z0 = 1 is still
          negative, the objective is convex, and the minimiser stays at the corner (1, 0).
    """
    if not (math.isfinite(weight) and weight > 0):
        raise ConvlensError(f"weight must be a positive number, got {weight}")
    _penalty(np.zeros(2), penalty)  # validates the name
    if penalty in ("none", "l1"):
        z0, exact = 1.0, "(1, 0)"
    elif weight <= 0.5:
        z0, exact = 1.0, "(1, 0)  (weight <= 1/2: the stationary point lies outside the simplex)"
    else:
        z0 = (weight + math.sqrt(weight**2 + 4 * weight)) / (4 * weight)
        if weight == 1.0:
            exact = "((1 + sqrt(5))/4, (3 - sqrt(5))/4)"
        else:
            exact = f"((w + sqrt(w^2 + 4w))/(4w), 1 - z0) with w = {weight:g}"
    return Minimiser(penalty, weight, (z0, 1.0 - z0), exact, objective(z0, penalty, weight))


def numerical_minimiser(penalty: str, weight: float = 1.0) -> tuple[float, float]:
    """Minimise over the 2-simplex with scipy (SLSQP, equality constraint sum z = 1, z >= 0).

    Independent of the closed form: it optimises over both coordinates with the constraint
    rather than substituting z1 = 1 - z0, and starts from the uniform vector.
    """
    _penalty(np.zeros(2), penalty)
    eps = 1e-12

    def f(z):
        return -math.log(max(z[0], eps)) + weight * _penalty(np.asarray(z), penalty)

    res = optimize.minimize(
        f,
        x0=np.array([0.5, 0.5]),
        method="SLSQP",
        bounds=[(eps, 1.0), (0.0, 1.0)],
        constraints=[{"type": "eq", "fun": lambda z: z.sum() - 1.0}],
        options={"ftol": 1e-15, "maxiter": 500},
    )
    # Polish in one dimension (bounded Brent) so the agreement is not limited by SLSQP's ftol.
    lo = max(eps, float(res.x[0]) - 0.05)
    res1 = optimize.minimize_scalar(
        lambda z0: objective(z0, penalty, weight),
        bounds=(lo, 1.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    z0 = float(res1.x) if res1.fun <= f(res.x) else float(res.x[0])
    return (z0, 1.0 - z0)


def minimiser_table(weight: float = 1.0) -> list[MinimiserRow]:
    """(1d): closed form beside the numerical optimum for each regulariser."""
    rows = []
    for penalty in ("none", "l2", "l1"):
        exact = closed_form_minimiser(penalty, weight)
        numeric = numerical_minimiser(penalty, weight)
        rows.append(
            MinimiserRow(
                penalty=penalty,
                closed_form=exact.exact,
                z=list(exact.z),
                z_numerical=list(numeric),
                objective=exact.objective,
                abs_diff=float(max(abs(a - b) for a, b in zip(exact.z, numeric, strict=True))),
            )
        )
    return rows


def theory_results(weight: float = 1.0, tol: float = 1e-6) -> TheoryResults:
    """Everything `convlens theory` prints."""
    table = minimiser_table(weight)
    by = {row.penalty: row for row in table}
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=8)
    labels = rng.integers(0, 5, size=8)
    fast = dataset_cross_entropy(probs, labels)
    loop, ops = dataset_cross_entropy_loop(probs, labels)

    def agreement(penalty: str) -> Agreement:
        return Agreement(by[penalty].abs_diff, by[penalty].abs_diff <= tol)

    return TheoryResults(
        weight=weight,
        ce_example=CeExample([0.7, 0.3], [1, 0], cross_entropy([0.7, 0.3], [1, 0])),
        non_stochastic=non_stochastic_examples(),
        dataset_ce=DatasetCe(n=8, vectorised=fast, loop=loop, operations=ops),
        argmin_none=by["none"].z,
        argmin_l2=by["l2"].z,
        argmin_l1=by["l1"].z,
        minimisers=table,
        checks=TheoryChecks(
            none=agreement("none"),
            l2=agreement("l2"),
            l1=agreement("l1"),
            dataset_ce_2n_operations=ops == 2 * 8 and abs(fast - loop) < 1e-12,
        ),
    )
