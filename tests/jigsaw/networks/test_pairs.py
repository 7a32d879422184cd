"""convlens.jigsaw.networks.pairs: seam and slot sums decode to the brute-force best of the 24
orders (the exam's semantics)."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from oracles import brute_force_orders
from torch import nn

from convlens.jigsaw.networks.border_head import BorderHead
from convlens.jigsaw.networks.pairs import order_logits, pair_mlp, slot_logits
from convlens.jigsaw.networks.seam_head import SeamHead
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


def _pairs_one_by_one(mlp: nn.Module, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """The oracle: each ordered pair's two halves concatenated and put through the whole MLP."""
    rows = [
        mlp(torch.cat([first[:, a], second[:, b]], dim=-1))
        for a, b in itertools.permutations(range(4), 2)
    ]
    return torch.stack(rows, dim=1)


def test_the_split_first_layer_equals_the_mlp_on_each_concatenated_pair_values_and_gradients():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(5 + 3, 16), nn.ReLU(), nn.Linear(16, 2)).double()
    gen = torch.Generator().manual_seed(1)
    first = torch.randn(6, 4, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    second = torch.randn(6, 4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    fast, plain = pair_mlp(mlp, first, second), _pairs_one_by_one(mlp, first, second)
    torch.testing.assert_close(fast, plain, rtol=0, atol=1e-12)
    weights = torch.randn(plain.shape, generator=gen, dtype=torch.float64)
    grads = [
        torch.autograd.grad((y * weights).sum(), [first, second, *mlp.parameters()])
        for y in (fast, plain)
    ]
    for g_fast, g_plain in zip(*grads, strict=True):
        torch.testing.assert_close(g_fast, g_plain, rtol=0, atol=1e-12)


def test_the_border_head_scores_each_seam_from_the_concatenated_facing_sides():
    """b right of a: [a's right column, top then bottom; b's left column]; b below a: [a's
    bottom row, left then right; b's top row], each through its own MLP, as the head was first
    written."""
    torch.manual_seed(2)
    head = BorderHead(channels=3, embed=4, hidden=8).double().eval()
    maps = torch.randn(3, 4, 3, 2, 2, generator=torch.Generator().manual_seed(3)).double()
    cells = head.cell(maps.permute(0, 1, 3, 4, 2))  # B x 4 x row x col x embed
    right = _pairs_one_by_one(
        head.right, cells[:, :, :, 1].flatten(2), cells[:, :, :, 0].flatten(2)
    )
    below = _pairs_one_by_one(
        head.below, cells[:, :, 1, :].flatten(2), cells[:, :, 0, :].flatten(2)
    )
    expected = torch.cat([right[..., 0], below[..., 0]], dim=1)
    torch.testing.assert_close(head.pair_scores(maps), expected, rtol=0, atol=1e-12)


def test_the_seam_head_scores_each_pair_of_cells_from_their_concatenation():
    torch.manual_seed(4)
    head = SeamHead(channels=3, hidden=8).double().eval()
    flat = torch.randn(3, 12, generator=torch.Generator().manual_seed(5)).double()
    cells = head.cells(flat)
    scores = _pairs_one_by_one(head.pair, cells, cells)
    expected = torch.cat([scores[..., 0], scores[..., 1]], dim=1)
    torch.testing.assert_close(head.pair_scores(flat), expected, rtol=0, atol=1e-12)
