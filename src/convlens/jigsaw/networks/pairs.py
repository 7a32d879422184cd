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

from convlens.jigsaw.puzzle.permutations import PERMUTATIONS, inverse

PAIRS = np.array(list(itertools.permutations(range(4), 2)))  # 12 ordered pairs (a, b)
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
