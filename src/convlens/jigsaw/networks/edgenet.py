"""A de-shuffling network that learns how well two tiles continue across a seam.

For every ordered pair of tiles (a, b) it looks at the strip where they would meet: the last
`border` columns of a beside the first `border` columns of b (left-right), or the last rows of
a above the first rows of b (top-bottom, transposed so one trunk serves both). A small VGG-style
trunk (3x3 convolutions, batch norm, ReLU, pools) scores the strip; an arrangement's logit is
the sum of its four seams' scores, and training is plain cross-entropy over the 24 orders.
This is the learned counterpart of the classical seam solvers (Pomeranz et al. 2011,
Gallagher 2012): the structure of the task is built in, so it learns in minutes on a CPU where
a VGG over the whole shuffled image needs a long time to discover the seams at all.
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.jigsaw.networks.pairs import PAIRS, order_logits
from convlens.jigsaw.puzzle.tiles import to_tiles


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def build_edgenet(config) -> EdgeNet:
    """The network its settings (convlens.jigsaw.networks.configs) describe."""
    return EdgeNet(
        width=config.width, border=config.border, hidden=config.hidden, dropout=config.dropout
    )


class EdgeNet(nn.Module):
    def __init__(
        self,
        num_classes: int = 24,
        width: float = 1.0,
        border: int = 8,
        hidden: int = 128,
        dropout: float = 0.0,
    ):
        super().__init__()
        if num_classes != 24:
            raise ConvlensError("EdgeNet scores the 24 orders of a 2x2 grid")
        c1, c2, c3 = (max(8, round(c * width)) for c in (32, 64, 128))
        self.border = border
        self.features = nn.Sequential(
            *_block(3, c1), *_block(c1, c1), nn.MaxPool2d(2),
            *_block(c1, c2), *_block(c2, c2), nn.MaxPool2d(2),
            *_block(c2, c3), *_block(c3, c3),
        )  # fmt: skip
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(c3, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, 2)
        )  # two outputs: the left-right and the top-bottom seam score

    def strips(self, x: torch.Tensor) -> torch.Tensor:
        """B x 24 x C x H/2 x 2k: 12 left-right then 12 top-bottom (transposed) strips."""
        k = self.border
        t = to_tiles(x)
        a, z = torch.from_numpy(PAIRS[:, 0]), torch.from_numpy(PAIRS[:, 1])
        lr = torch.cat([t[:, a, :, :, -k:], t[:, z, :, :, :k]], dim=-1)
        tb = torch.cat([t[:, a, :, -k:, :], t[:, z, :, :k, :]], dim=-2).transpose(-1, -2)
        return torch.cat([lr, tb], dim=1)

    def seam_scores(self, x: torch.Tensor) -> torch.Tensor:
        """B x 24: score of each ordered pair meeting left-right (0..11), top-bottom (12..23)."""
        s = self.strips(x)
        b = s.shape[0]
        f = self.avgpool(self.features(s.flatten(0, 1))).flatten(1)
        out = self.classifier(f).view(b, 24, 2)
        return torch.cat([out[:, :12, 0], out[:, 12:, 1]], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return order_logits(self.seam_scores(x))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Whole-image features for probes: the trunk is fully convolutional, so it runs on the
        (unshuffled) image and its map is averaged."""
        return self.avgpool(self.features(x)).flatten(1)
