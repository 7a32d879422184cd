"""Problem 1d: the regularised cross-entropy's minimisers in closed form beside scipy's
numerical optimum, for no penalty, L2 and L1."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from convlens.errors import ConvlensError


@dataclass(frozen=True)
class MinimiserRow:
    penalty: str
    closed_form: str
    z: list[float]
    z_numerical: list[float]
    objective: float
    abs_diff: float


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
