"""A context-free network (CFN, Noroozi & Favaro 2016) for the exam's 2x2 puzzle.

Each quarter goes *alone* through one shared VGG-11-BN trunk; a head then scores the 24 orders
from the four tiles' features: the recipe's border head scores each seam from the two sides that
would face each other (convlens.jigsaw.networks.border_head); the seam head compares whole-tile
embeddings pair by pair, the original 24-way MLP reads the four embeddings in slot order. No
convolution ever sees two tiles at once, so the trunk cannot read how edges continue across a
seam (the cue EdgeNet is built on); it has to recognise what a tile's sides show and where such
content sits in a picture.

Three defences against the remaining shortcuts, each an option so that it can be measured off:
* `gap`: a random (training) or centred (evaluation) crop `gap` pixels inside each edge of a
  tile, so lines cannot be followed to the tile's border;
* `tile_norm`: each tile's channels standardised on their own, removing brightness, contrast and
  colour-cast differences between quarters (vignetting, low-level statistics);
* `tile_gray`: during training, a tile is turned grey with this probability, against
  chromatic aberration (colour fringes that tell a lens's centre from its edge).
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.jigsaw.networks.border_head import BorderHead
from convlens.jigsaw.networks.seam_head import SeamHead
from convlens.jigsaw.puzzle.tiles import to_tiles
from convlens.models.vgg import CONFIGS, make_features


def build_cfn(config) -> CFN:
    """The network its settings (convlens.jigsaw.networks.configs) describe."""
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


class CFN(nn.Module):
    def __init__(
        self,
        num_classes: int = 24,
        width: float = 0.5,
        hidden: int = 512,
        dropout: float = 0.0,
        embed: int = 256,
        gap: int = 4,
        tile_norm: bool = True,
        tile_gray: float = 0.3,
        head: str = "orders",
        tile_grid: int = 1,
        slots: bool = False,
    ):
        super().__init__()
        if num_classes != 24:
            raise ConvlensError("CFN orders the 4 quarters of a 2x2 grid: 24 classes")
        if gap < 0 or not 0 <= tile_gray <= 1:
            raise ConvlensError(f"gap must be >= 0 and tile_gray in [0, 1], got {gap}, {tile_gray}")
        self.gap, self.tile_norm, self.tile_gray = gap, tile_norm, tile_gray
        self.features = make_features(CONFIGS["vgg11"], batch_norm=True, width=width)
        for m in self.features:
            if isinstance(m, nn.MaxPool2d):
                m.ceil_mode = True  # five pools also fit a small tile (40 -> 20 -> ... -> 2)
        channels = [m for m in self.features if isinstance(m, nn.Conv2d)][-1].out_channels
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        # tile_grid > 1 keeps a coarse layout of each tile (which side holds what) in its
        # embedding, for a head that compares one tile's right side with another's left; the
        # border head reads that layout itself, cell by cell (convlens.jigsaw.networks.border_head)
        self.tile_pool = nn.AdaptiveAvgPool2d(2 if head == "borders" else tile_grid)
        self.head = head
        if head == "borders":
            self.embed = nn.Identity()  # the head embeds each cell of the 2x2 grid
            self.classifier = BorderHead(channels, embed, hidden, dropout)
            return
        self.embed = nn.Sequential(
            nn.Linear(channels * tile_grid * tile_grid, embed), nn.ReLU(inplace=True)
        )
        if (
            head == "seams"
        ):  # pairs of tile embeddings, summed per order (jigsaw.networks.seam_head)
            self.classifier = SeamHead(embed, hidden, dropout, slots)
        else:
            self.classifier = nn.Sequential(
                nn.Linear(4 * embed, hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(hidden, num_classes),
            )

    def tiles(self, x: torch.Tensor) -> torch.Tensor:
        """B x 3 x H x W -> B x 4 x 3 x h x w: the quarters in slot order (row-major), cropped
        and normalised as the options say."""
        b = x.shape[0]
        t = to_tiles(x).flatten(0, 1)
        if self.gap:
            t = self._crop(t)
        if self.training and self.tile_gray > 0:
            gray = torch.rand(len(t), 1, 1, 1, device=t.device) < self.tile_gray
            t = torch.where(gray, t.mean(1, keepdim=True).expand_as(t), t)
        if self.tile_norm:
            mean = t.mean((2, 3), keepdim=True)
            std = t.std((2, 3), keepdim=True)
            t = (t - mean) / (std + 1e-3)
        return t.reshape(b, 4, *t.shape[1:])

    def _crop(self, t: torch.Tensor) -> torch.Tensor:
        n, _, h, w = t.shape
        g = self.gap
        if 2 * g >= min(h, w):
            raise ConvlensError(f"gap {g} leaves nothing of a {h} x {w} tile")
        sh, sw = h - 2 * g, w - 2 * g
        if not self.training:
            return t[:, :, g : g + sh, g : g + sw]
        oy = torch.randint(0, 2 * g + 1, (n,), device=t.device)
        ox = torch.randint(0, 2 * g + 1, (n,), device=t.device)
        iy = oy[:, None] + torch.arange(sh, device=t.device)  # n x sh
        ix = ox[:, None] + torch.arange(sw, device=t.device)  # n x sw
        rows = torch.arange(n, device=t.device)[:, None, None]
        return t.permute(0, 2, 3, 1)[rows, iy[:, :, None], ix[:, None, :]].permute(0, 3, 1, 2)

    def tile_embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """B x 4 x embed: each quarter's embedding, computed from that quarter alone (for the
        border head, its flattened C x 2 x 2 map)."""
        t = self.tiles(x)
        b = t.shape[0]
        f = self.tile_pool(self.features(t.flatten(0, 1).contiguous())).flatten(1)
        return self.embed(f).view(b, 4, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.tile_embeddings(x)  # B x 4 x embed
        if self.head == "borders":
            return self.classifier(e.view(*e.shape[:2], -1, 2, 2))
        # the seam head reads channels-major cells (C x 4), as VGG's pooled 2x2 grid comes
        return self.classifier(
            e.transpose(1, 2).flatten(1) if self.head == "seams" else e.flatten(1)
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Whole-image features for probes: the trunk is fully convolutional, so it runs on the
        unshuffled image and its map is averaged."""
        return self.avgpool(self.features(x)).flatten(1)
