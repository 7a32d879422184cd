"""A border head for the CFN: each seam scored from the two tiles' facing sides only.

The CFN's trunk sees one tile at a time and, with the gap crop, never the pixels at a seam. What
is left to tell that tile b continues tile a to the right is how a's right side and b's left
side look (a horizon at the same height, a wall that goes on), read a few pixels apart. The
seam head compares whole-tile embeddings and has to learn which part of each embedding faces
which way; this head hands it the facing halves: each tile's final map is pooled to 2x2 cells,
"b right of a" is scored from a's right column and b's left column (top cell beside top cell),
"b below a" from a's bottom row and b's top row, each relation by its own small MLP. An order's
logit is the sum of its four seams (convlens.jigsaw.networks.pairs), as for the seam head.
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.jigsaw.networks.pairs import order_logits, pair_mlp


def _mlp(inputs: int, hidden: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, 1)
    )


class BorderHead(nn.Module):
    """B x 4 x C x 2 x 2 tile maps (slot order) -> 24 order logits."""

    def __init__(self, channels: int, embed: int = 256, hidden: int = 512, dropout: float = 0.0):
        super().__init__()
        self.cell = nn.Sequential(nn.Linear(channels, embed), nn.ReLU(inplace=True))
        self.right = _mlp(4 * embed, hidden, dropout)  # a's right column, b's left column
        self.below = _mlp(4 * embed, hidden, dropout)  # a's bottom row, b's top row

    def pair_scores(self, maps: torch.Tensor) -> torch.Tensor:
        """B x 24: each ordered pair of tiles meeting left-right (0..11), top-bottom (12..23)."""
        cells = self.cell(maps.permute(0, 1, 3, 4, 2))  # B x 4 x row x col x embed
        # "b right of a": a's right column beside b's left column; "b below a": a's bottom row
        # beside b's top row (top cell beside top cell, left beside left)
        right = pair_mlp(self.right, cells[:, :, :, 1].flatten(2), cells[:, :, :, 0].flatten(2))
        below = pair_mlp(self.below, cells[:, :, 1, :].flatten(2), cells[:, :, 0, :].flatten(2))
        return torch.cat([right[..., 0], below[..., 0]], dim=1)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return order_logits(self.pair_scores(maps))
