"""Orders as sums of seams: the structure EdgeNet and VGG's seam head share.

An arrangement of the 2x2 grid has four seams: two where a tile meets the tile to its right,
two where a tile meets the tile below it. A network that scores each *ordered pair of tiles*
for each of the two relations (12 pairs x 2) scores all 24 orders at once: an order's logit is
the sum of its four seams' scores. The same pair score serves every order it appears in, so
what is learned about one pair is shared by six orders, and the decoding is exact: the argmax
over the 24 sums is the best arrangement (tests check it against brute force).
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convlens.jigsaw.puzzle.permutations import PERMUTATIONS, inverse

PAIRS = np.array(list(itertools.permutations(range(4), 2)))  # 12 ordered pairs (a, b)
_FIRST, _SECOND = torch.from_numpy(PAIRS[:, 0]), torch.from_numpy(PAIRS[:, 1])
_PAIR_INDEX = {tuple(p): i for i, p in enumerate(PAIRS.tolist())}
SLOTS = inverse(PERMUTATIONS)  # [order, slot] -> the shuffled tile placed there
# For each order: the pair index of its two left-right seams and of its two top-bottom seams.
LR_SEAMS = np.array([[_PAIR_INDEX[(s[0], s[1])], _PAIR_INDEX[(s[2], s[3])]] for s in SLOTS])
TB_SEAMS = np.array([[_PAIR_INDEX[(s[0], s[2])], _PAIR_INDEX[(s[1], s[3])]] for s in SLOTS])


def order_logits(seam_scores: torch.Tensor) -> torch.Tensor:
    """B x 24 pair scores (12 left-right, then 12 top-bottom, pairs in PAIRS order) -> B x 24
    order logits, each the sum of the order's four seams."""
    lr = torch.from_numpy(LR_SEAMS).to(seam_scores.device)
    tb = torch.from_numpy(TB_SEAMS).to(seam_scores.device) + 12
    return seam_scores[:, lr].sum(-1) + seam_scores[:, tb].sum(-1)


def slot_logits(tile_slot_scores: torch.Tensor) -> torch.Tensor:
    """B x 4 x 4 scores (shuffled tile, slot of the restored image it belongs to) -> B x 24
    order logits, each the sum of its four placements: "where content sits" (skies on top) as
    a term beside the seams, for a network whose cells see one tile each (the CFN)."""
    tiles = torch.from_numpy(SLOTS).to(tile_slot_scores.device)  # 24 x 4: tile at each slot
    slots = torch.arange(4, device=tile_slot_scores.device)
    return tile_slot_scores[:, tiles, slots].sum(-1)


def pair_mlp(mlp: nn.Sequential, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """`mlp` (a Linear first) on every ordered pair's [first[a], second[b]]: B x 4 x D1 and
    B x 4 x D2 -> B x 12 x outputs, pairs in PAIRS order.

    The first layer is linear, so W [u; v] = W_u u + W_v v: each tile's half of it is computed
    once and the 12 pairs add the halves, a third of the multiplications of concatenating the 12
    pairs first (the CFN's border head spent 12 % of a training step there, fp32 on a 2-core
    Zen 4 EPYC held to AVX2; bench_pair_heads.py). The weights are the same Linear's, so trained
    networks load and score as before."""
    linear, rest = mlp[0], mlp[1:]
    d = first.shape[-1]
    u = F.linear(first, linear.weight[:, :d])  # B x 4 x hidden
    v = F.linear(second, linear.weight[:, d:], linear.bias)
    return rest(u[:, _FIRST] + v[:, _SECOND])
