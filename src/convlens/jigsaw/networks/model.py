"""The de-shuffling networks.

* "edgenet" (default): a VGG-style batch-norm trunk that scores every seam between two tiles;
  an order's logit is the sum of its four seams (convlens.jigsaw.networks.edgenet).
* "vgg11_bn" (the exam's suggestion): our VGG-11 with batch norm over the whole shuffled image,
  with a 24-way head ("orders") or, in its recipe, a seam head that scores pairs of the final
  2x2 grid's cells (convlens.jigsaw.networks.seam_head). The task is local (do edges
  continue across the seams?) and global (which tile holds the sky), which 3x3 convolutions
  with pooling can
  capture; batch norm lets an 11-layer network train from scratch; VGG-11 is the smallest VGG.
  Measured figures: docs/experiments.md; recipes: convlens.jigsaw.training.recipes.
* "cfn": the context-free network (convlens.jigsaw.networks.cfn): each quarter alone through
  a shared VGG-11-BN trunk, so it cannot use the seams at all; its border head compares the sides of
  two tiles that would face each other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from convlens.errors import ConvlensError
from convlens.jigsaw.networks.cfn import CFN
from convlens.jigsaw.networks.configs import (
    CFNConfig,
    EdgeNetConfig,
    ModelConfig,
    VGGConfig,
    stored_config,
)
from convlens.jigsaw.networks.edgenet import EdgeNet
from convlens.jigsaw.networks.seam_head import SeamHead
from convlens.jigsaw.puzzle.permutations import NUM_PERMUTATIONS
from convlens.models.vgg import BUILDERS, VGG


def shuffle_invariant(config: ModelConfig) -> bool:
    """Whether the network scores an arrangement the same whatever order its input came in, so
    that test-time augmentation (the 24 re-shuffled views) gives exactly the plain scores: EdgeNet
    scores seams, and the CFN sees each tile alone and, with a pairwise head, scores pairs of
    tiles wherever they sit. A CFN's 24-way head reads the tiles in slot order: not invariant."""
    return isinstance(config, EdgeNetConfig) or (
        isinstance(config, CFNConfig) and config.head in ("seams", "borders")
    )


def build_model(config: ModelConfig | dict) -> VGG | EdgeNet | CFN:
    if isinstance(config, dict):
        config = stored_config(config)
    if isinstance(config, EdgeNetConfig):
        return EdgeNet(
            width=config.width, border=config.border, hidden=config.hidden, dropout=config.dropout
        )
    if isinstance(config, CFNConfig):
        return CFN(
            width=config.width,
            hidden=config.hidden,
            dropout=config.dropout,
            gap=config.gap,
            tile_norm=config.tile_norm,
            tile_gray=config.tile_gray,
            head=config.head,
            tile_grid=config.tile_grid,
            slots=config.slots,
        )
    if not isinstance(config, VGGConfig):
        raise ConvlensError(f"{type(config).__name__}: not a de-shuffling network's settings")
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
