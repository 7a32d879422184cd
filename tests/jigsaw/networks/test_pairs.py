"""convlens.jigsaw.networks.pairs: seam and slot sums decode to the brute-force best of the 24
orders (the exam's semantics)."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from convlens.jigsaw.networks.pairs import order_logits, slot_logits
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS, inverse


def _brute_force(pair_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every arrangement of the four tiles, scored seam by seam with the exam's semantics:
    order o puts shuffled tile i at position o[i]; the tile at each position is inverse(o)."""
    pairs = {p: k for k, p in enumerate(itertools.permutations(range(4), 2))}
    logits = np.zeros((len(pair_scores), 24))
    for n, scores in enumerate(pair_scores):
        for o, order in enumerate(PERMUTATIONS):
            at = inverse(order[None])[0]  # at[position] = shuffled tile there
            logits[n, o] = (
                scores[pairs[(at[0], at[1])]]
                + scores[pairs[(at[2], at[3])]]
                + scores[12 + pairs[(at[0], at[2])]]
                + scores[12 + pairs[(at[1], at[3])]]
            )
    return logits, PERMUTATIONS[logits.argmax(1)]


def test_seam_sums_decode_to_the_brute_force_best_order():
    scores = torch.randn(200, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    logits = order_logits(scores)
    expected, best = _brute_force(scores.numpy())
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
