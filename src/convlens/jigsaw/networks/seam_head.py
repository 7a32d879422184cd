"""A seam head for VGG over the whole shuffled image: the four cells of the final 2x2 grid are
compared pairwise, as EdgeNet compares tiles, instead of read by one 24-way layer.

At 64 px (the recipe's resize) VGG's five pools end on a 2x2 grid, one cell per quarter, and
each cell's receptive field spans the whole puzzle. A small MLP scores every ordered pair of
cells (a, b) for "b continues a to the right" and "b continues a below"; an order's logit is
the sum of its four seams (convlens.jigsaw.networks.pairs). The plain 24-way head has to learn each
order's look separately, and on a few thousand puzzles from a few dozen photographs it learns
the photographs instead (benchmarks/bench_jigsaw.py measures both heads).
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.jigsaw.networks.pairs import order_logits, pair_mlp, slot_logits


class SeamHead(nn.Module):
    """Flattened C x 2 x 2 features (VGG's pooled output) -> 24 order logits."""

    def __init__(self, channels: int, hidden: int = 512, dropout: float = 0.0, slots: bool = False):
        super().__init__()
        self.channels = channels
        # slots: each cell also scored for each of the four slots it may belong to, a term that
        # only matters where a cell sees its own tile alone (the CFN)
        self.slot = nn.Linear(channels, 4) if slots else None
        self.pair = nn.Sequential(
            nn.Linear(2 * channels, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, 2),  # the left-right and the top-bottom score of the pair
        )

    def cells(self, flat: torch.Tensor) -> torch.Tensor:
        return flat.view(len(flat), self.channels, 4).transpose(1, 2)  # B x 4 x C, raster order

    def pair_scores(self, flat: torch.Tensor) -> torch.Tensor:
        """B x 24: each ordered pair of cells meeting left-right (0..11), top-bottom (12..23)."""
        cells = self.cells(flat)
        scores = pair_mlp(self.pair, cells, cells)  # B x 12 x 2
        return torch.cat([scores[..., 0], scores[..., 1]], dim=1)

    def forward(self, flat: torch.Tensor) -> torch.Tensor:
        logits = order_logits(self.pair_scores(flat))
        if self.slot is not None:
            logits = logits + slot_logits(self.slot(self.cells(flat)))
        return logits
