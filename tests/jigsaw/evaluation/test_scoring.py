"""convlens.jigsaw.evaluation.scoring: accuracies against a plain loop."""

import numpy as np
import torch

from convlens.jigsaw.evaluation.scoring import accuracy, restore
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS


def test_accuracy_against_a_plain_loop():
    rng = np.random.default_rng(0)
    true = PERMUTATIONS[rng.integers(0, 24, 50)]
    lp = torch.log_softmax(torch.randn(50, 24, generator=torch.Generator().manual_seed(0)), 1)
    acc = accuracy(lp, true)
    pred = PERMUTATIONS[lp.argmax(1).numpy()]
    images = sum(all(p[i] == t[i] for i in range(4)) for p, t in zip(pred, true, strict=True))
    tiles = sum(p[i] == t[i] for p, t in zip(pred, true, strict=True) for i in range(4))
    assert acc.image_correct == images and acc.quarter_correct == tiles
    restored, orders, prob = restore(np.zeros((50, 3, 4, 4), np.uint8), lp)
    np.testing.assert_array_equal(orders, pred)
    assert np.all((prob > 0) & (prob <= 1))
