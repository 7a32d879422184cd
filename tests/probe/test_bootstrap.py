"""The paired bootstrap of a probe's difference (convlens.probe.bootstrap) against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest

from convlens.errors import ConvlensError
from convlens.probe.bootstrap import paired_difference
from convlens.probe.probe_records import Difference


def _plain_loop(a, b, resamples, seed, level=0.95):
    """One resample at a time, each accuracy computed on its own, with Python's own sampling."""
    import random

    rng = random.Random(seed)
    n, diffs = len(a), []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        diffs.append(sum(a[i] for i in idx) / n - sum(b[i] for i in idx) / n)
    diffs.sort()
    tail = (1 - level) / 2
    return diffs[int(tail * resamples)], diffs[int((1 - tail) * resamples) - 1]


@pytest.mark.parametrize("gap", [0.0, 0.05, 0.2])
def test_the_interval_matches_a_plain_loop(gap):
    rng = np.random.default_rng(1)
    truth = rng.random(400) < 0.6
    other = np.where(rng.random(400) < gap, ~truth & (rng.random(400) < 0.3), truth)
    a, b = truth.astype(int).tolist(), other.astype(int).tolist()
    fast = paired_difference(truth, other, resamples=4000, seed=0)
    low, high = _plain_loop(a, b, 4000, seed=7)
    assert fast.difference == pytest.approx(np.mean(truth) - np.mean(other))
    # two independent Monte Carlo estimates of the same percentiles
    assert abs(fast.low - low) < 0.01 and abs(fast.high - high) < 0.01
    assert fast.low <= fast.difference <= fast.high


def test_identical_results_are_no_difference_and_clear_ones_are_real():
    x = np.arange(300) % 3 == 0
    same = paired_difference(x, x)
    assert same == Difference(difference=0.0, low=0.0, high=0.0, real=False)
    better = paired_difference(np.ones(300, bool), x)
    assert better.real and better.low > 0.5
    worse = paired_difference(x, np.ones(300, bool))
    assert worse.real and worse.high < -0.5


def test_the_same_seed_gives_the_same_interval_over_several_chunks():
    rng = np.random.default_rng(2)
    a, b = rng.random(50_000) < 0.5, rng.random(50_000) < 0.52  # several chunks of resamples
    assert paired_difference(a, b, resamples=300, seed=3) == paired_difference(
        a, b, resamples=300, seed=3
    )


def test_bad_input_is_refused():
    with pytest.raises(ConvlensError):
        paired_difference([1, 0], [1])
    with pytest.raises(ConvlensError):
        paired_difference([], [])
