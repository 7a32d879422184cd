"""Is a probe's difference real? A paired bootstrap over the test images.

Two feature sets are tested on the same images, so their errors are correlated: resampling the
images (with replacement) and recomputing both accuracies on each resample gives the spread of
the *difference* itself, narrower and more honest than two separate intervals. A difference is
called real when its `LEVEL` interval excludes zero.
"""

from __future__ import annotations

import numpy as np

from convlens.errors import ConvlensError
from convlens.probe.probe_records import Difference

LEVEL = 0.95  # the intervals' coverage, which the report's sentences quote


def paired_difference(
    correct_a, correct_b, *, resamples: int = 2000, seed: int = 0, level: float = LEVEL
) -> Difference:
    """Accuracy of a minus accuracy of b (one bool per
    test image each), with the percentile interval of `resamples` paired resamples."""
    a = np.asarray(correct_a, dtype=np.float64)
    b = np.asarray(correct_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ConvlensError(f"expected two equal, non-empty 1-D vectors, got {a.shape}, {b.shape}")
    if resamples < 1 or not 0 < level < 1:
        raise ConvlensError(f"resamples must be >= 1 and level in (0, 1), got {resamples}, {level}")
    rng = np.random.default_rng(seed)
    d = a - b
    diffs = np.empty(resamples)
    chunk = max(1, (1 << 22) // len(d))  # about 32 MB of indices at a time
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        idx = rng.integers(0, len(d), size=(rows, len(d)))
        diffs[start : start + rows] = d[idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return Difference(
        difference=float(d.mean()),
        low=float(low),
        high=float(high),
        real=bool(low > 0 or high < 0),
    )
