"""convlens.jigsaw.networks.pairs: seam and slot sums decode to the brute-force best of the 24
orders (the exam's semantics)."""

from __future__ import annotations

import numpy as np
import torch
from oracles import brute_force_orders

from convlens.jigsaw.networks.pairs import order_logits, slot_logits
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS


def test_seam_sums_decode_to_the_brute_force_best_order():
    scores = torch.randn(200, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    logits = order_logits(scores)
    expected, best = brute_force_orders(scores.numpy())
    np.testing.assert_allclose(logits.numpy(), expected, rtol=0, atol=1e-12)
    decoded = PERMUTATIONS[logits.argmax(1).numpy()]
    np.testing.assert_array_equal(decoded, best)
    assert all(sorted(o) == [0, 1, 2, 3] for o in decoded.tolist())


def test_slot_sums_score_each_tile_at_the_position_the_order_sends_it_to():
    """Exam semantics: order o sends shuffled tile i to position o[i]; the order's slot term is
    the sum over tiles of score[tile, o[tile]]."""
    scores = torch.randn(50, 4, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    expected = np.array(
        [[sum(s[i, order[i]] for i in range(4)) for order in PERMUTATIONS] for s in scores.numpy()]
    )
    np.testing.assert_allclose(slot_logits(scores).numpy(), expected, rtol=0, atol=1e-12)
