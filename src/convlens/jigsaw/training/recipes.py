"""How each de-shuffling network is trained: one recipe per architecture, shared by the CLI's
defaults, the report and the benchmarks (benchmarks/bench_jigsaw.py measures them)."""

from __future__ import annotations

from dataclasses import replace

from convlens.jigsaw.networks.catalogue import NETWORKS as CATALOGUE
from convlens.jigsaw.networks.configs import VGGConfig, with_settings
from convlens.jigsaw.training.config import TrainConfig

NETWORKS = tuple(CATALOGUE)
BARS = {name: spec.bar for name, spec in CATALOGUE.items()}


# Each network's recipe: its catalogue entry's settings and training fields, with the
# measurements that chose them beside the entry (convlens.jigsaw.networks.catalogue).
RECIPES = {name: TrainConfig(model=spec.model, **spec.training) for name, spec in CATALOGUE.items()}


def recipe(arch: str, side: int = 96, **overrides) -> TrainConfig:
    """The recipe of `arch` for images of `side` pixels, with `overrides` (epochs, seed, ...)."""
    vgg = RECIPES["vgg11_bn"]  # the other VGG-BNs (and plain VGG-11) share its recipe
    base = RECIPES.get(arch) or replace(vgg, model=with_settings(vgg.model, arch=arch))
    model = replace(base.model, input_size=side)
    if isinstance(model, VGGConfig):
        if model.resolution:
            model = replace(model, resolution=min(model.resolution, side))
        if model.head == "seams" and (model.resolution or side) < 64:
            model = replace(model, head="orders")  # below 64 px VGG's five pools leave one cell
    return replace(base, model=model, **overrides)
