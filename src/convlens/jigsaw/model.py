"""The de-shuffling networks.

* "edgenet" (default): a VGG-style batch-norm trunk that scores every seam between two tiles;
  an order's logit is the sum of its four seams (convlens.jigsaw.edgenet). On crops of
  unseen photographs it gets 0.976 image-level after 8 epochs (benchmarks/bench_jigsaw.py).
* "vgg11_bn" (the exam's suggestion): our VGG-11 with batch norm and a 24-way head over the
  whole shuffled image. The task is local (do edges continue across the seams?) and global
  (which tile holds the sky), which 3x3 convolutions with pooling can capture; batch norm lets
  an 11-layer network train from scratch; VGG-11 is the smallest VGG. On a CPU it learns
  slowly: it first has to discover that the seams matter (0.158 after the same 8 epochs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from convlens.errors import ConvlensError
from convlens.jigsaw.edgenet import EdgeNet
from convlens.jigsaw.permutations import NUM_PERMUTATIONS
from convlens.models.vgg import BUILDERS, VGG

ARCHS = ("edgenet", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg11")


@dataclass
class ModelConfig:
    arch: str = "edgenet"
    width: float = 0.5  # channel multiplier: 0.5 trains about 2-4x faster on a CPU
    hidden: int = 128
    dropout: float = 0.0
    input_size: int = 96
    border: int = 8  # edgenet: pixels on each side of a seam that the trunk sees

    def as_dict(self) -> dict:
        return asdict(self)


def build_model(config: ModelConfig | dict) -> VGG | EdgeNet:
    if isinstance(config, dict):
        config = ModelConfig(**config)
    if config.arch not in ARCHS:
        raise ConvlensError(f"unknown architecture {config.arch!r}; expected one of {ARCHS}")
    if config.arch == "edgenet":
        return EdgeNet(
            width=config.width, border=config.border, hidden=config.hidden, dropout=config.dropout
        )
    return BUILDERS[config.arch](
        num_classes=NUM_PERMUTATIONS,
        width=config.width,
        hidden=config.hidden,
        dropout=config.dropout,
        input_size=config.input_size,
    )
