"""The exam's suggestion as a de-shuffling network: VGG-11 with batch norm (or another of our
VGGs) over the whole shuffled image. The task is local (do edges continue across the seams?)
and global (which tile holds the sky), which 3x3 convolutions with pooling can capture; batch
norm lets an 11-layer network train from scratch; VGG-11 is the smallest VGG. Its head scores
the 24 orders, or, in its recipe, pairs of the final 2x2 grid's cells
(convlens.jigsaw.networks.seam_head). Measured figures: docs/experiments.md."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from convlens.jigsaw.networks.configs import VGGConfig
from convlens.jigsaw.networks.seam_head import SeamHead
from convlens.jigsaw.puzzle.permutations import NUM_PERMUTATIONS
from convlens.models.vgg import BUILDERS, VGG


def build_vgg(config: VGGConfig) -> VGG:
    """Our VGG (convlens.models.vgg) over the whole shuffled image, with a 24-way head
    ("orders") or a head that scores pairs of the final 2x2 grid's cells ("seams"); resized
    first where the settings ask for a smaller resolution."""
    side = config.resolution or config.input_size
    seams = config.head == "seams"
    model = BUILDERS[config.arch](
        num_classes=NUM_PERMUTATIONS,
        width=config.width,
        hidden=config.hidden,
        dropout=config.dropout,
        input_size=side,
        pool_size=2 if seams else None,  # one cell per quarter
    )
    if seams:
        channels = [m for m in model.features if isinstance(m, nn.Conv2d)][-1].out_channels
        model.classifier = SeamHead(channels, config.hidden, config.dropout, config.slots)
    if side != config.input_size:
        model.features.insert(0, AreaResize(side))  # no parameters: state-dict keys shift only
    return model


class AreaResize(nn.Module):
    """Resize to side x side by area averaging (anti-aliased, no parameters)."""

    def __init__(self, side: int):
        super().__init__()
        self.side = side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == self.side and x.shape[-2] == self.side:
            return x
        return F.interpolate(x, size=(self.side, self.side), mode="area")

    def extra_repr(self) -> str:
        return f"side={self.side}"
