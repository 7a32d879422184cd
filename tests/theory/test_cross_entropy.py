import math

import numpy as np
import pytest
import torch
from scipy import optimize

from convlens import theory


def test_cross_entropy_is_minus_log_of_true_class():
    assert theory.cross_entropy([0.7, 0.3], [1, 0]) == pytest.approx(-math.log(0.7))
    assert theory.cross_entropy([0.7, 0.3], [0, 1]) == pytest.approx(-math.log(0.3))
    assert theory.cross_entropy([0.2, 0.5, 0.3], [0, 0, 1]) == pytest.approx(-math.log(0.3))
    assert theory.cross_entropy([0.0, 1.0], [1, 0]) == math.inf


def test_cross_entropy_matches_full_sum_definition():
    rng = np.random.default_rng(1)
    for _ in range(20):
        z = rng.dirichlet(np.ones(4))
        y = np.eye(4)[rng.integers(4)]
        full = -sum(yk * math.log(zk) for yk, zk in zip(y, z, strict=True))
        assert theory.cross_entropy(z, y) == pytest.approx(full)


@pytest.mark.parametrize(
    ("z", "y", "message"),
    [
        ([0.7, 0.4], [1, 0], "sum to 1.1"),
        ([1.2, -0.2], [1, 0], "negative entry"),
        ([float("nan"), 1.0], [1, 0], "finite"),
        ([1.0], [1], "length >= 2"),
        ([[0.5, 0.5]], [1, 0], "vector"),
        ([0.5, 0.5], [1, 1], "not one-hot"),
        ([0.5, 0.5], [0.5, 0.5], "not one-hot"),
        ([0.5, 0.5], [1, 0, 0], "same length"),
    ],
)
def test_cross_entropy_rejects_bad_input(z, y, message):
    with pytest.raises(ValueError, match=message):
        theory.cross_entropy(z, y)


def test_non_stochastic_examples_show_unbounded_and_undefined():
    rows = theory.non_stochastic_examples()
    values = [r.ce for r in rows]
    assert min(v for v in values if not math.isnan(v)) < -200  # unbounded below
    assert any(math.isnan(v) for v in values)  # negative entry -> log undefined
    big = [r.ce for r in rows if r.z[0] > 1]
    assert big == sorted(big, reverse=True)  # larger z0, lower "loss"


def _random_problem(n, k, seed):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(k), size=n), rng.integers(0, k, size=n)


@pytest.mark.parametrize("n", [1, 7, 100])
def test_dataset_cross_entropy_against_loop_and_torch(n):
    probs, labels = _random_problem(n, 5, n)
    fast = theory.dataset_cross_entropy(probs, labels)
    loop, ops = theory.dataset_cross_entropy_loop(probs, labels)
    ref = torch.nn.functional.nll_loss(
        torch.log(torch.from_numpy(probs)), torch.from_numpy(labels), reduction="sum"
    ).item()
    assert fast == pytest.approx(loop, rel=1e-12)
    assert fast == pytest.approx(ref, rel=1e-12)
    assert ops == 2 * n


@pytest.mark.parametrize(
    ("probs", "labels", "message"),
    [
        (np.full((3, 2), 0.5), np.array([0, 2, 1]), r"labels\[1\] = 2 is out of range"),
        (np.full((3, 2), 0.5), np.array([0, -1, 1]), "out of range"),
        (np.full((3, 2), 0.5), np.array([0, 1]), "labels must have shape"),
        (np.full((3, 2), 0.5), np.array([0.0, 1.0, 1.0]), "integer"),
        (np.full(3, 0.5), np.array([0, 1, 1]), "probs must have shape"),
        (np.array([[0.5, 0.5], [0.9, 0.3]]), np.array([0, 1]), "row 1 is not stochastic"),
        (np.array([[0.5, 0.5], [1.5, -0.5]]), np.array([0, 1]), "negative"),
        (np.array([[0.5, np.nan]]), np.array([0]), "NaN"),
    ],
)
def test_dataset_cross_entropy_rejects_bad_input(probs, labels, message):
    with pytest.raises(ValueError, match=message):
        theory.dataset_cross_entropy(probs, labels)


def test_l2_closed_form_is_half_golden_ratio():
    m = theory.closed_form_minimiser("l2")
    assert m.z[0] == pytest.approx((1 + math.sqrt(5)) / 4, abs=1e-15)
    assert "sqrt(5)" in m.exact


@pytest.mark.parametrize("penalty", ["none", "l2", "l1"])
@pytest.mark.parametrize("weight", [0.1, 1.0, 3.0])
def test_closed_forms_match_an_independent_grid_and_scipy(penalty, weight):
    exact = theory.closed_form_minimiser(penalty, weight).z[0]

    # Oracle 1: scipy's bounded scalar minimiser on the substituted objective, written here.
    def f(z0):
        z = np.array([z0, 1 - z0])
        pen = {"none": 0.0, "l2": (z**2).sum(), "l1": np.abs(z).sum()}[penalty]
        return -np.log(z0) + weight * pen

    res = optimize.minimize_scalar(f, bounds=(1e-9, 1), method="bounded", options={"xatol": 1e-12})
    assert exact == pytest.approx(res.x, abs=1e-6)
    # Oracle 2: the library's own constrained solver over both coordinates.
    z = theory.numerical_minimiser(penalty, weight)
    assert z[0] == pytest.approx(exact, abs=1e-6)
    assert sum(z) == pytest.approx(1.0)
    # Oracle 3: a dense grid never beats the closed form.
    grid = np.linspace(1e-6, 1, 200001)
    assert f(exact) <= min(f(g) for g in grid[::1000]) + 1e-9


def test_l1_is_constant_on_the_simplex():
    z0 = np.linspace(0.01, 1, 50)
    diffs = [theory.objective(v, "l1") - theory.objective(v, "none") for v in z0]
    assert np.allclose(diffs, 1.0)


def test_bad_penalty_and_weight():
    with pytest.raises(ValueError, match="penalty must be"):
        theory.closed_form_minimiser("l3")
    with pytest.raises(ValueError, match="weight must be"):
        theory.closed_form_minimiser("l2", weight=-1)


def test_theory_results_json_keys():
    from convlens.record import to_json

    r = to_json(theory.theory_results())
    for key in ("argmin_none", "argmin_l2", "argmin_l1", "checks"):
        assert key in r
    assert all(len(r[k]) == 2 for k in ("argmin_none", "argmin_l2", "argmin_l1"))
    assert r["argmin_l2"][0] == pytest.approx(0.809017, abs=1e-6)
    assert all(v is True or v["agree"] for v in r["checks"].values())
