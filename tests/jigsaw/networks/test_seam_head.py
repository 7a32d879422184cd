"""convlens.jigsaw.networks.seam_head: the seam head decodes to the brute-force best order and
reads each cell where its quarter is."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from oracles import brute_force_orders

from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.networks.seam_head import SeamHead
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS


@pytest.mark.parametrize("slots", [False, True])
def test_the_cfn_seam_head_decodes_to_the_brute_force_best_order(slots):
    model = build_model(
        model_config(arch="cfn", width=0.125, hidden=16, head="seams", slots=slots)
    ).eval()
    x = torch.randn(5, 3, 96, 96, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        flat = model.tile_embeddings(x).transpose(1, 2).flatten(1)
        logits = model(x).double()
        expected, best = brute_force_orders(model.classifier.pair_scores(flat).double().numpy())
        if slots:
            unary = model.classifier.slot(model.classifier.cells(flat)).double().numpy()
            expected += np.array(
                [[sum(u[i, o[i]] for i in range(4)) for o in PERMUTATIONS] for u in unary]
            )
            best = PERMUTATIONS[expected.argmax(1)]
    np.testing.assert_allclose(logits.numpy(), expected, atol=1e-4)
    np.testing.assert_array_equal(PERMUTATIONS[logits.argmax(1).numpy()], best)


@pytest.mark.parametrize("head", ["orders", "seams"])
def test_every_vgg_head_decodes_to_one_of_the_24_orders(head):
    model = build_model(
        model_config(arch="vgg11_bn", width=0.125, hidden=16, resolution=64, head=head)
    ).eval()
    x = torch.randn(6, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (6, 24)
    if head == "seams":
        flat = model.forward_features(x)
        with torch.no_grad():
            pair = model.classifier.pair_scores(flat)
        expected, _ = brute_force_orders(pair.double().numpy())
        np.testing.assert_allclose(logits.double().numpy(), expected, atol=1e-4)


def test_the_seam_head_reads_each_cell_where_its_quarter_is():
    """Cells in raster order: the pair (a, b) is scored from cell a and cell b of the 2x2 grid."""
    torch.manual_seed(0)
    head = SeamHead(channels=3, hidden=4).double()
    grid = torch.arange(12, dtype=torch.float64).view(1, 3, 2, 2)  # channel c, cell (r, col)
    scores = head.pair_scores(grid.flatten(1))[0]  # 12 left-right, then 12 top-bottom
    for k, (a, b) in enumerate(itertools.permutations(range(4), 2)):
        cell_a, cell_b = grid[0, :, a // 2, a % 2], grid[0, :, b // 2, b % 2]
        pair = head.pair(torch.cat([cell_a, cell_b]))
        torch.testing.assert_close(scores[[k, 12 + k]], pair, rtol=0, atol=1e-12)
