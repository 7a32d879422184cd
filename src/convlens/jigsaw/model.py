"""The de-shuffling network: our VGG-11 with batch norm and a 24-way head for 96x96 input.

Why VGG-11-BN (exam 3a): the task is local (do edges and textures continue across the two
seams?) and global (which tile holds sky, which the ground), which a stack of 3x3 convolutions
with pooling captures well; batch norm makes an 11-layer network train quickly from scratch
with large learning rates; and VGG-11 is the smallest VGG, which matters on a CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from convlens.jigsaw.permutations import NUM_PERMUTATIONS
from convlens.models.vgg import BUILDERS, VGG


@dataclass
class ModelConfig:
    arch: str = "vgg11_bn"
    width: float = 0.5  # channel multiplier: 0.5 trains 4x faster on a CPU
    hidden: int = 512
    dropout: float = 0.5
    input_size: int = 96

    def as_dict(self) -> dict:
        return asdict(self)


def build_model(config: ModelConfig | dict) -> VGG:
    if isinstance(config, dict):
        config = ModelConfig(**config)
    if config.arch not in BUILDERS:
        raise ValueError(f"unknown architecture {config.arch!r}")
    return BUILDERS[config.arch](
        num_classes=NUM_PERMUTATIONS,
        width=config.width,
        hidden=config.hidden,
        dropout=config.dropout,
        input_size=config.input_size,
    )
