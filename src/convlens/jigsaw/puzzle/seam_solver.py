"""A training-free solver: rate each of the 24 arrangements by how well edges continue across
the two internal seams (in the spirit of Pomeranz et al. 2011 and Gallagher 2012).

For each ordered pair of tiles (a beside b, a above b) the dissimilarity is the L1 error of
predicting the first pixel column (row) across the seam by linear extrapolation of the last
two on the other side, in both directions. An arrangement costs the sum over its four seams.
"""

from __future__ import annotations

import numpy as np
import torch

from convlens.jigsaw.puzzle.permutations import PERMUTATIONS, inverse
from convlens.jigsaw.puzzle.tiles import to_tiles

# Slot pairs joined by a seam in a 2x2 grid: (left, right) and (top, bottom).
_LR = [(0, 1), (2, 3)]
_TB = [(0, 2), (1, 3)]
# For each candidate order (exam semantics), the shuffled tile that lands in each slot.
_TILE_IN_SLOT = inverse(PERMUTATIONS)  # 24 x 4


def _pair_costs(first_edge, first_inner, second_edge, second_inner) -> torch.Tensor:
    """N x 4 x 4 cost of tile a (first) meeting tile b (second) along one seam orientation.

    *_edge, *_inner: N x 4 x C x L, the boundary line of each tile and the line next to it.
    """
    pred_b = 2 * first_edge - first_inner  # extrapolate a across the seam
    pred_a = 2 * second_edge - second_inner
    cost_ab = (pred_b[:, :, None] - second_edge[:, None, :]).abs().mean((-1, -2))
    cost_ba = (pred_a[:, None, :] - first_edge[:, :, None]).abs().mean((-1, -2))
    return cost_ab + cost_ba


def seam_costs(images) -> torch.Tensor:
    """N x 24 dissimilarity of each candidate order (lower = edges continue better)."""
    x = torch.as_tensor(images).float()
    tiles = to_tiles(x)  # N x 4 x C x h x w
    lr = _pair_costs(tiles[..., :, -1], tiles[..., :, -2], tiles[..., :, 0], tiles[..., :, 1])
    tb = _pair_costs(tiles[..., -1, :], tiles[..., -2, :], tiles[..., 0, :], tiles[..., 1, :])
    slot = torch.from_numpy(_TILE_IN_SLOT)  # 24 x 4
    total = torch.zeros(x.shape[0], 24)
    for a, b in _LR:
        total += lr[:, slot[:, a], slot[:, b]]
    for a, b in _TB:
        total += tb[:, slot[:, a], slot[:, b]]
    return total


def seam_log_probs(costs: torch.Tensor, temperature: float) -> torch.Tensor:
    """Costs as log-probabilities over the 24 orders: log_softmax(-cost / T)."""
    return torch.log_softmax(-costs / temperature, dim=1)


def fit_temperature(costs: torch.Tensor, classes, grid=None) -> float:
    """The temperature minimising the negative log-likelihood of the true orders."""
    classes = torch.as_tensor(np.asarray(classes))
    grid = grid if grid is not None else np.geomspace(0.05, 50, 60)
    nll = [float(-seam_log_probs(costs, t).gather(1, classes.view(-1, 1)).mean()) for t in grid]
    return float(grid[int(np.argmin(nll))])
