"""How good are the explanations?

* Deletion and insertion (Petsiuk et al. 2018): remove (or add) pixels in order of decreasing
  attribution and follow the target probability. A faithful map makes deletion fall fast
  (small area) and insertion rise fast (large area).
* Model-parameter randomisation (Adebayo et al. 2018): re-initialise layers from the top down;
  a map that explains the model should change, so its rank correlation with the original map
  should drop.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from torch import nn
from tqdm.auto import tqdm

from convlens.errors import ConvlensError
from convlens.explain.blur import gaussian_blur
from convlens.explain.model_state import as_targets, check_images, preserved
from convlens.record import key
from convlens.runtime import placed


@dataclass(frozen=True)
class DeletionInsertion:
    method: str
    deletion_auc: float
    insertion_auc: float


@dataclass(frozen=True)
class RandomisationRow:
    """Mean Spearman correlation with the trained model's maps, `layer` and every layer above
    it re-initialised."""

    layer: str
    saliency: float
    guided_backprop: float


@dataclass(frozen=True)
class ExplanationQuality:
    """Both checks over `n_images`; `mean_curves` ({method: {"deletion", "insertion"}}, the
    mean curves for a figure) is not stored in results.json."""

    deletion_insertion: list[DeletionInsertion]
    randomisation: list[RandomisationRow]
    n_images: int
    mean_curves: dict | None = key(stored=False, default=None)


def _trapezoid_area(curve: torch.Tensor) -> torch.Tensor:
    """Area under curves sampled on [0, 1] at equal steps (B x S+1 -> B)."""
    return torch.trapezoid(curve, dx=1.0 / (curve.shape[1] - 1), dim=1)


def deletion_insertion(
    model: nn.Module,
    images: torch.Tensor,
    maps: torch.Tensor,
    target,
    *,
    steps: int = 32,
    blur_sigma: float = 5.0,
    max_batch: int = 32,
) -> dict[str, torch.Tensor]:
    """Deletion and insertion curves (B x steps+1) of the target's softmax probability.

    Deletion replaces pixels by zero (the mean image after normalisation); insertion starts from
    a strongly blurred copy and restores the original pixels. `maps` is B x H x W (or
    B x C x H x W, reduced by the absolute maximum over channels).
    """
    curves = deletion_insertion_curves(
        model,
        images,
        {"map": maps},
        target,
        steps=steps,
        blur_sigma=blur_sigma,
        max_batch=max_batch,
    )
    return curves["map"]


# Deletion/insertion frames go through the model in channels_last: VGG16's forward pass ran
# 1.25x the speed of the contiguous layout on a 2-core AVX2 EPYC (bench_explanation_checks.py)
FRAMES_LAYOUT = True


@torch.no_grad()
def deletion_insertion_curves(
    model: nn.Module,
    images: torch.Tensor,
    maps: dict[str, torch.Tensor],
    target,
    *,
    steps: int = 32,
    blur_sigma: float = 5.0,
    max_batch: int = 32,
    progress: bool = False,
) -> dict[str, dict[str, torch.Tensor]]:
    """`deletion_insertion` for several maps of the same images at once, per map name.

    Every frame of every image, kind and map goes through the model in batches of
    `max_batch`. The frames that do not depend on the map (the original image, which starts
    deletion and ends insertion, the all-removed image and the fully blurred one) run once
    per image instead of once per map and curve.
    """
    images = check_images(images)
    b, c, h, w = images.shape
    flat_maps = {}
    for name, m in maps.items():
        m = m.abs().amax(1) if m.ndim == 4 else m
        if m.shape != (b, h, w):
            raise ConvlensError(f"maps must be {b} x {h} x {w}, got {tuple(m.shape)}")
        flat_maps[name] = m.flatten(1)
    targets = as_targets(target, b, images.device)
    n_pix = h * w
    counts = [round(n_pix * s / steps) for s in range(steps + 1)]
    blurred = gaussian_blur(images, blur_sigma)
    # rank[p] = position of pixel p in the map's order (most important first); a pixel is
    # "chosen" at step s when its rank is below counts[s]: one comparison per frame.
    ranks = {}
    for name, m in flat_maps.items():
        order = m.argsort(dim=1, descending=True)
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(n_pix, device=images.device).expand(b, -1))
        ranks[name] = rank

    def key(name: str, kind: str, i: int, s: int) -> tuple:
        n = counts[s]
        if (kind == "deletion" and n == 0) or (kind == "insertion" and n == n_pix):
            return ("original", i)
        if n == n_pix:
            return ("removed", i)
        if n == 0:
            return ("blurred", i)
        return (name, kind, i, s)

    def frame(name: str, kind: str, i: int, s: int) -> torch.Tensor:
        chosen = (ranks[name][i] < counts[s]).view(1, h, w).float()
        if kind == "deletion":
            return images[i] * (1 - chosen)
        return blurred[i] * (1 - chosen) + images[i] * chosen

    specs = [
        (name, kind, i, s)
        for name in flat_maps
        for kind in ("deletion", "insertion")
        for i in range(b)
        for s in range(steps + 1)
    ]
    unique: dict[tuple, tuple] = {}
    for spec in specs:
        unique.setdefault(key(*spec), spec)
    todo = list(unique.items())
    probs: dict[tuple, float] = {}
    chunks = range(0, len(todo), max_batch)
    # forward passes only, so the faster channels_last layout (the maps are already made)
    with preserved(model), placed(model, images.device, channels_last=FRAMES_LAYOUT) as net:
        for start in tqdm(chunks, desc="deletion/insertion", disable=not progress, leave=False):
            part = todo[start : start + max_batch]
            frames = torch.stack([frame(*spec) for _, spec in part])
            if FRAMES_LAYOUT:
                frames = frames.contiguous(memory_format=torch.channels_last)
            t = targets[[spec[2] for _, spec in part]]
            p = torch.softmax(net(frames).float(), 1).gather(1, t.view(-1, 1)).squeeze(1)
            probs.update(zip([k for k, _ in part], p.cpu().tolist(), strict=True))
    out = {}
    for name in flat_maps:
        curves = {
            kind: torch.tensor(
                [[probs[key(name, kind, i, s)] for s in range(steps + 1)] for i in range(b)]
            )
            for kind in ("deletion", "insertion")
        }
        out[name] = {
            **curves,
            "deletion_auc": _trapezoid_area(curves["deletion"]),
            "insertion_auc": _trapezoid_area(curves["insertion"]),
        }
    return out


def _weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules with their own weights, in registration order (input side first)."""
    return [
        (name, m)
        for name, m in model.named_modules()
        if getattr(m, "weight", None) is not None and not list(m.children())
    ]


def spearman_rows(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """Spearman rank correlation between matching rows of two B x ... tensors."""
    a = a.detach().flatten(1).double().cpu().numpy()
    b = b.detach().flatten(1).double().cpu().numpy()
    return np.array([stats.spearmanr(x, y).statistic for x, y in zip(a, b, strict=True)])


def randomisation_check(
    model: nn.Module,
    images: torch.Tensor,
    target,
    methods: dict[str, Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]]
    | Callable[[nn.Module, torch.Tensor, torch.Tensor], dict[str, torch.Tensor]],
    *,
    seed: int = 0,
    max_layers: int | None = None,
    originals: dict[str, torch.Tensor] | None = None,
    progress: bool = False,
) -> dict:
    """Cascading randomisation from the output layer down (Adebayo et al. 2018, section 4).

    For each method, maps are computed with the trained model and after re-initialising the
    top 1, 2, ... weighted layers (cumulatively, on a copy). Returns the per-layer mean
    Spearman correlation of the absolute maps with the originals. The target stays the class
    the original model was explained for.

    `methods` is {name: fn(model, images, targets) -> maps}, or one function returning
    {name: maps} (several methods sharing a pass). `originals` are the trained model's maps
    when the caller already has them.
    """
    targets = as_targets(target, images.shape[0], images.device)
    if callable(methods):
        compute = methods
    else:

        def compute(m, x, t):
            return {name: fn(m, x, t) for name, fn in methods.items()}

    if originals is None:
        originals = compute(model, images, targets)
    original = {name: v.abs() for name, v in originals.items()}
    rand = copy.deepcopy(model)
    layers = list(reversed(_weighted_layers(rand)))[:max_layers]
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    rows = []
    try:
        for layer_name, layer in tqdm(
            layers, desc="randomisation check", disable=not progress, leave=False
        ):
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
            else:  # a module with weights but no reset: Gaussian like a default init
                with torch.no_grad():
                    for p in layer.parameters():
                        p.normal_(0, 0.02)
            row = {"layer": layer_name}
            for name, maps in compute(rand, images, targets).items():
                row[name] = float(np.nanmean(spearman_rows(original[name], maps.abs())))
            rows.append(row)
    finally:
        torch.random.set_rng_state(gen_state)
    return {"layers": [r["layer"] for r in rows], "rows": rows}


def explanation_quality(
    model: nn.Module,
    images: torch.Tensor,
    target,
    *,
    steps: int = 24,
    max_layers: int | None = None,
    seed: int = 0,
    maps: dict[str, torch.Tensor] | None = None,
    progress: bool = False,
) -> ExplanationQuality:
    """Both checks for saliency and guided backprop, with a seeded random map as the floor:
    mean deletion/insertion areas and curves, and the cascading randomisation rows.

    `maps` ({"saliency": B x H x W, "guided backprop": B x C x H x W}) are the trained model's
    maps of these images and targets when the caller has them already (the report's 2e/2f);
    otherwise both come from one shared forward pass."""
    from convlens.explain.gradient_pair import saliency_and_guided

    targets = as_targets(target, images.shape[0], images.device)

    def both(m, x, t):
        pair = saliency_and_guided(m, x, t)
        return {"saliency": pair.saliency, "guided_backprop": pair.guided_backprop}

    if maps is None:
        pair = saliency_and_guided(model, images, targets)
        maps = {"saliency": pair.saliency, "guided backprop": pair.guided_backprop}
    gen = torch.Generator().manual_seed(seed)
    maps = {
        "saliency": maps["saliency"],
        "guided backprop": maps["guided backprop"],
        "random map": torch.rand(images.shape[0], *images.shape[-2:], generator=gen).to(
            images.device
        ),
    }
    curves = deletion_insertion_curves(model, images, maps, targets, steps=steps, progress=progress)
    rows = [
        DeletionInsertion(k, float(c["deletion_auc"].mean()), float(c["insertion_auc"].mean()))
        for k, c in curves.items()
    ]
    rnd = randomisation_check(
        model,
        images,
        targets,
        both,
        seed=seed,
        max_layers=max_layers,
        originals={"saliency": maps["saliency"], "guided_backprop": maps["guided backprop"]},
        progress=progress,
    )
    return ExplanationQuality(
        deletion_insertion=rows,
        randomisation=[RandomisationRow(**row) for row in rnd["rows"]],
        n_images=int(images.shape[0]),
        mean_curves={
            k: {
                "deletion": c["deletion"].mean(0).tolist(),
                "insertion": c["insertion"].mean(0).tolist(),
            }
            for k, c in curves.items()
        },
    )
