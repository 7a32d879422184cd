"""How each de-shuffling network is trained: one recipe per architecture, shared by the CLI's
defaults, the report and the benchmarks (benchmarks/bench_jigsaw.py measures them)."""

from __future__ import annotations

from dataclasses import replace

from convlens.jigsaw.networks.configs import CFNConfig, EdgeNetConfig, VGGConfig, with_settings
from convlens.jigsaw.training.config import TrainConfig

NETWORKS = ("edgenet", "vgg11_bn", "cfn")
# Image-level accuracy each network must reach alone on unseen photographs: the exam's 0.60
# for its suggestion, VGG-11-BN; EdgeNet, built on the seams, is held to 0.98; the CFN, which
# never sees a seam, to 0.50.
EXAM_BAR = 0.60
BARS = {"edgenet": 0.98, "vgg11_bn": EXAM_BAR, "cfn": 0.50}

RECIPES = {
    # A quarter of VGG's width (fp32, a 2-core Zen EPYC held to AVX2, 3 epochs): 1.3 min and
    # 0.983 alone on unseen photographs; at half width the first epoch alone took 2.6 min.
    "edgenet": TrainConfig(model=EdgeNetConfig(width=0.25)),
    # VGG-11-BN over the whole shuffled image: 64 px input (2.2x the images per second of
    # 96 px on a CPU, and the five pools end on a 2x2 grid, one cell per quarter), half width,
    # batch 32 (on 2 cores the same images per second as 64 or 128, so twice the updates).
    # Measured with benchmarks/bench_jigsaw.py (validation on held-out photographs, 15 epochs
    # each): the seam head against the 24-way head, 0.671 against 0.186; rescaled crops
    # (crop_scale 0.6) 0.782 against 0.671 without; dropout 0.3 in the pair head 0.631 (not
    # kept). At most 30 epochs; a time budget (--minutes, the report's) plans fewer.
    # A quarter of VGG's width (docs/experiments.md; fp32, a 2-core Zen EPYC held to AVX2, 16
    # epochs): 3.2 min and 0.729 alone on test, against 9.6 min and 0.711 at half width; an
    # eighth, 1.7 min and 0.643 (not kept).
    "vgg11_bn": TrainConfig(
        epochs=30,
        batch_size=32,
        lr=1.5e-3,
        crop_scale=0.6,
        model=VGGConfig(arch="vgg11_bn", width=0.25, hidden=512, resolution=64, head="seams"),
    ),
    # The context-free network: tiles alone through a shared VGG-11-BN trunk with gap crops
    # (convlens.jigsaw.networks.cfn). Measured with bench_jigsaw.py, 15 epochs, validation on
    # held-out photographs: the 24-way head 0.224; the seam head 0.267; with rescaled crops
    # 0.273; with
    # each tile's 2x2 layout kept (tile_grid 2) 0.305; with crops but without per-tile
    # normalisation and grey tiles (the gap kept) 0.465. Those two defences cost the CFN most
    # of what it can learn in minutes, so the recipe keeps only the gap; both stay options.
    # Stronger rescaled crops (crop_scale 0.4) 0.529; 0.25 0.497; on top of 0.6, a 2x2 layout
    # per tile 0.479, blended images (mix 0.5) 0.493, a moving average of the weights
    # (ema_epochs 2) 0.499, a slot term in the head 0.461; 0.4 with the layout and blending
    # 0.515 (0.503 averaged); 0.4 for 30 epochs 0.491. Without the gap: 0.894.
    # The border head (each seam from the two tiles' facing sides,
    # convlens.jigsaw.networks.border_head)
    # against the seam head, crops 0.4, on an AMX Xeon: 0.625 against 0.525; 30 epochs 0.659.
    # At most 30 epochs, as VGG-11-BN; a time budget plans fewer. A quarter of VGG's width
    # (fp32, a 2-core Zen EPYC held to AVX2, 16 epochs): 5.3 min and 0.509 alone on test,
    # against 13.6 min and 0.512 at half width.
    "cfn": TrainConfig(
        epochs=30,
        batch_size=32,
        lr=1.5e-3,
        crop_scale=0.4,
        model=CFNConfig(width=0.25, hidden=512, head="borders", tile_norm=False, tile_gray=0.0),
    ),
}


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
