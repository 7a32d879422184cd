"""Problem 1a-1c: cross-entropy between a stochastic vector and a one-hot label, what goes wrong
off the simplex, and a dataset's loss in 2N operations."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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
