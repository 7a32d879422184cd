"""convlens.jigsaw.networks.border_head: each seam scored from the two facing sides only, and
refused where it cannot apply."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from oracles import brute_force_orders

from convlens.jigsaw.networks.border_head import BorderHead
from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS
from convlens.jigsaw.training.config import TrainConfig


def test_the_cfn_border_head_decodes_to_the_brute_force_best_order():
    model = build_model(model_config(arch="cfn", width=0.125, hidden=16, head="borders")).eval()
    x = torch.randn(5, 3, 96, 96, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        maps = model.tile_embeddings(x).view(5, 4, -1, 2, 2)
        logits = model(x).double()
        expected, best = brute_force_orders(model.classifier.pair_scores(maps).double().numpy())
    np.testing.assert_allclose(logits.numpy(), expected, atol=1e-4)
    np.testing.assert_array_equal(PERMUTATIONS[logits.argmax(1).numpy()], best)


def test_the_border_head_scores_a_seam_from_the_two_facing_sides_only():
    """ "b right of a" reads a's right column and b's left column, row beside row; "b below a"
    a's bottom row and b's top row: changing any other cell of either tile leaves it alone."""
    torch.manual_seed(0)  # the head's initial weights: a unit dead by chance reads nothing
    head = BorderHead(channels=3, embed=4, hidden=8).eval()
    maps = torch.randn(1, 4, 3, 2, 2, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        before = head.pair_scores(maps)[0]
        for tile, r, c in itertools.product(range(4), range(2), range(2)):
            moved = maps.clone()
            moved[0, tile, :, r, c] += 1.0
            changed = (head.pair_scores(moved)[0] - before).abs() > 1e-6
            for k, (a, b) in enumerate(itertools.permutations(range(4), 2)):
                reads_right = (tile == a and c == 1) or (tile == b and c == 0)
                reads_below = (tile == a and r == 1) or (tile == b and r == 0)
                assert changed[k].item() == reads_right, (tile, r, c, a, b)
                assert changed[12 + k].item() == reads_below, (tile, r, c, a, b)


@pytest.mark.parametrize(
    "model, words",
    [
        (model_config(arch="vgg11_bn", head="borders", resolution=64), "head borders is the CFN's"),
        (model_config(arch="cfn", head="borders", tile_grid=2), "tile_grid must be 1"),
    ],
)
def test_the_border_head_is_refused_where_it_cannot_apply(model, words):
    from convlens.errors import ConvlensError

    with pytest.raises(ConvlensError, match=words):
        TrainConfig(model=model).validate()
