"""A labelled set in DataNormal.npz's layout from real images available offline: scikit-learn's
1,797 handwritten digits (10 classes), upscaled to the jigsaw network's input size in colour."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def make_digits_normal(size: int = 96, test_fraction: float = 0.3, seed: int = 0) -> dict:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = (x.clamp(0, 1) * 255).round().to(torch.uint8).repeat(1, 3, 1, 1).numpy()
    y = digits.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    test, train = perm[:n_test], perm[n_test:]
    return {"a": x[train], "b": y[train], "c": x[test], "d": y[test]}
