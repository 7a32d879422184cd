"""Each de-shuffling network's settings, its own: what every network has (`ModelConfig`), and
what only EdgeNet, the VGGs or the CFN have, each in its own dataclass with its own checks, as
torchvision and timm give each builder its own arguments. `model_config(arch, **settings)`
picks the class and refuses a setting that belongs to another network."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from convlens.errors import ConvlensError

# vgg: "orders" is one fully connected 24-way head; "seams" compares the final 2x2 grid's cells
# pairwise (convlens.jigsaw.networks.seam_head); cfn "borders": each seam from the two tiles'
# facing sides (convlens.jigsaw.networks.border_head)
HEADS = ("orders", "seams", "borders")

Check = tuple[bool, str, object]  # (holds, what must hold, the value found)


@dataclass
class ModelConfig:
    """What every de-shuffling network has."""

    archs: ClassVar[tuple[str, ...]] = ()  # the architectures these settings describe

    arch: str = "edgenet"
    width: float = 0.5  # channel multiplier: 0.5 trains about 2-4x faster on a CPU
    hidden: int = 128
    dropout: float = 0.0
    input_size: int = 96

    def checks(self) -> list[Check]:
        """What the network's own settings must satisfy (the shared ones are TrainConfig's)."""
        return []


@dataclass
class EdgeNetConfig(ModelConfig):
    archs: ClassVar[tuple[str, ...]] = ("edgenet",)
    border: int = 8  # pixels on each side of a seam that the trunk sees

    def checks(self) -> list[Check]:
        tile = self.input_size // 2
        return [
            (
                1 <= self.border <= tile,
                f"border must be in 1..{tile} (half the image side)",
                self.border,
            )
        ]


def _head_checks(config) -> list[Check]:
    return [
        (config.head in HEADS, f"head must be one of {', '.join(HEADS)}", config.head),
        (
            not config.slots or config.head == "seams",
            "slots is a term of head seams; head",
            config.head,
        ),
    ]


@dataclass
class VGGConfig(ModelConfig):
    archs: ClassVar[tuple[str, ...]] = ("vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg11")
    arch: str = "vgg11_bn"
    # The side the network first resizes its input to (area average); 0 keeps input_size.
    # A 96 px puzzle at 64 px costs 2.25x less and VGG's five pools end on a 2x2 grid, one
    # cell per quarter; the seams stay on pixel boundaries (48 -> 32).
    resolution: int = 0
    head: str = "orders"
    slots: bool = False  # head seams: each cell also scored for each slot beside the seams

    def checks(self) -> list[Check]:
        side = self.resolution or self.input_size
        return _head_checks(self) + [
            (
                self.resolution >= 0 and self.resolution % 32 == 0,
                "resolution must be 0 or a multiple of 32 (VGG's five pools)",
                self.resolution,
            ),
            (
                self.resolution <= self.input_size,
                f"resolution must be <= the images' {self.input_size} px (resizing up adds "
                "nothing)",
                self.resolution,
            ),
            (
                self.head != "seams" or side >= 64,
                "head seams needs a VGG input of at least 64 px (five pools leave a 2x2 grid); "
                "resolution",
                side,
            ),
            (self.head != "borders", "head borders is the CFN's; head", self.head),
        ]


@dataclass
class CFNConfig(ModelConfig):
    archs: ClassVar[tuple[str, ...]] = ("cfn",)
    arch: str = "cfn"
    # the defences against shortcuts (convlens.jigsaw.networks.cfn), each measurable on and off
    gap: int = 4
    tile_norm: bool = True
    tile_gray: float = 0.3
    head: str = "orders"
    tile_grid: int = 1  # each tile's final map pooled to this grid before its embedding
    slots: bool = False  # head seams: each tile also scored for each slot beside the seams

    def checks(self) -> list[Check]:
        tile = self.input_size // 2
        return _head_checks(self) + [
            (self.gap >= 0, "gap must be >= 0", self.gap),
            (0 <= self.tile_gray <= 1, "tile_gray must be in [0, 1]", self.tile_gray),
            (1 <= self.tile_grid <= 4, "tile_grid must be in 1..4", self.tile_grid),
            (
                2 * self.gap <= tile - 4,
                f"gap must leave at least 4 px of each {tile} px tile (2 x gap <= {tile - 4})",
                self.gap,
            ),
            (
                self.head != "borders" or self.tile_grid == 1,
                "head borders reads each tile's 2x2 grid itself; tile_grid must be 1",
                self.tile_grid,
            ),
        ]


# Each network family's settings class; the first architecture of each is the family's name.
FAMILIES = (EdgeNetConfig, VGGConfig, CFNConfig)
ARCHS = tuple(c.archs[0] for c in FAMILIES) + tuple(a for c in FAMILIES for a in c.archs[1:])


def config_class(arch: str) -> type[ModelConfig]:
    for family in FAMILIES:
        if arch in family.archs:
            return family
    raise ConvlensError(f"unknown architecture {arch!r}; expected one of {ARCHS}")


def settings_of(arch: str) -> set[str]:
    """The names of `arch`'s settings (its architecture's name aside)."""
    return {f.name for f in dataclasses.fields(config_class(arch))} - {"arch"}


def owners(name: str) -> list[str]:
    """The networks (by family: edgenet, vgg11_bn, cfn) that have setting `name`."""
    return [c.archs[0] for c in FAMILIES if name in settings_of(c.archs[0])]


def model_config(arch: str = "edgenet", **settings) -> ModelConfig:
    """`arch`'s settings, its defaults where not given; a setting of another network is refused
    with one line naming the settings `arch` has."""
    refuse_foreign(arch, settings)
    return config_class(arch)(arch=arch, **settings)


def refuse_foreign(arch: str, names, spell=lambda name: name) -> None:
    """One line for the first of `names` that is not `arch`'s setting, written as `spell`
    writes it (the CLI: as its flag), naming the networks that have it."""
    foreign = sorted(set(names) - settings_of(arch))
    if foreign:
        whose = " and ".join(owners(foreign[0])) or "no network"
        raise ConvlensError(
            f"{spell(foreign[0])}: a setting of {whose}, not of {arch} "
            f"(its settings: {', '.join(sorted(settings_of(arch)))})"
        )


def with_settings(config: ModelConfig, **changes) -> ModelConfig:
    """`config` with `changes` (the architecture may change too), checked as model_config."""
    merged = dataclasses.asdict(config) | changes
    arch = merged.pop("arch")
    kept = {k: v for k, v in merged.items() if k in settings_of(arch) or k in changes}
    return model_config(arch, **kept)


def stored_config(d: dict) -> ModelConfig:
    """A run's saved settings; runs saved before each network had its own settings stored
    every network's, so the other networks' are dropped."""
    d = dict(d)
    arch = d.pop("arch", "edgenet")
    return model_config(arch, **{k: v for k, v in d.items() if k in settings_of(arch)})
