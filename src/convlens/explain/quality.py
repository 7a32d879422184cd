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

import numpy as np
import torch
from scipy import stats
from torch import nn

from convlens.errors import ConvlensError
from convlens.explain.blur import gaussian_blur
from convlens.explain.model_state import as_targets, check_images, preserved


def _trapezoid_area(curve: torch.Tensor) -> torch.Tensor:
    """Area under curves sampled on [0, 1] at equal steps (B x S+1 -> B)."""
    return torch.trapezoid(curve, dx=1.0 / (curve.shape[1] - 1), dim=1)


@torch.no_grad()
def deletion_insertion(
    model: nn.Module,
    images: torch.Tensor,
    maps: torch.Tensor,
    target,
    steps: int = 32,
    blur_sigma: float = 5.0,
    max_batch: int = 32,
) -> dict[str, torch.Tensor]:
    """Deletion and insertion curves (B x steps+1) of the target's softmax probability.

    Deletion replaces pixels by zero (the mean image after normalisation); insertion starts from
    a strongly blurred copy and restores the original pixels. `maps` is B x H x W (or
    B x C x H x W, reduced by the absolute maximum over channels).
    """
    images = check_images(images)
    if maps.ndim == 4:
        maps = maps.abs().amax(1)
    b, c, h, w = images.shape
    if maps.shape != (b, h, w):
        raise ConvlensError(f"maps must be {b} x {h} x {w}, got {tuple(maps.shape)}")
    targets = as_targets(target, b, images.device)
    order = maps.flatten(1).argsort(dim=1, descending=True)  # most important first
    n_pix = h * w
    counts = [round(n_pix * s / steps) for s in range(steps + 1)]
    # rank[b, p] = position of pixel p in the order; a pixel is "chosen" at step s when its
    # rank is below counts[s]. Built once, then each step is a comparison (no Python loop
    # over pixels).
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(n_pix, device=images.device).expand(b, -1))
    blurred = gaussian_blur(images, blur_sigma)
    curves = {"deletion": [], "insertion": []}
    with preserved(model):
        for kind in curves:
            probs = torch.empty(b, steps + 1)
            for i in range(b):
                frames = []
                for s in range(steps + 1):
                    chosen = (rank[i] < counts[s]).view(1, h, w).float()
                    if kind == "deletion":
                        frames.append(images[i] * (1 - chosen))
                    else:
                        frames.append(blurred[i] * (1 - chosen) + images[i] * chosen)
                frames = torch.stack(frames)
                out = []
                for start in range(0, frames.shape[0], max_batch):
                    logits = model(frames[start : start + max_batch]).float()
                    out.append(torch.softmax(logits, 1)[:, targets[i]])
                probs[i] = torch.cat(out).cpu()
            curves[kind] = probs
    return {
        "deletion": curves["deletion"],
        "insertion": curves["insertion"],
        "deletion_auc": _trapezoid_area(curves["deletion"]),
        "insertion_auc": _trapezoid_area(curves["insertion"]),
    }


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
    methods: dict[str, Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]],
    seed: int = 0,
    max_layers: int | None = None,
) -> dict:
    """Cascading randomisation from the output layer down (Adebayo et al. 2018, section 4).

    For each method, maps are computed with the trained model and after re-initialising the
    top 1, 2, ... weighted layers (cumulatively, on a copy). Returns the per-layer mean
    Spearman correlation of the absolute maps with the originals. The target stays the class
    the original model was explained for.
    """
    targets = as_targets(target, images.shape[0], images.device)
    original = {name: fn(model, images, targets).abs() for name, fn in methods.items()}
    rand = copy.deepcopy(model)
    layers = list(reversed(_weighted_layers(rand)))[:max_layers]
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    rows = []
    try:
        for layer_name, layer in layers:
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
            else:  # a module with weights but no reset: Gaussian like a default init
                with torch.no_grad():
                    for p in layer.parameters():
                        p.normal_(0, 0.02)
            row = {"layer": layer_name}
            for name, fn in methods.items():
                corr = spearman_rows(original[name], fn(rand, images, targets).abs())
                row[name] = float(np.nanmean(corr))
            rows.append(row)
    finally:
        torch.random.set_rng_state(gen_state)
    return {"layers": [r["layer"] for r in rows], "rows": rows}


def explanation_quality(
    model: nn.Module,
    images: torch.Tensor,
    target,
    steps: int = 24,
    max_layers: int | None = None,
    seed: int = 0,
) -> dict:
    """Both checks for saliency and guided backprop, with a seeded random map as the floor:
    mean deletion/insertion areas and curves, and the cascading randomisation rows."""
    from convlens.explain.guided_backprop import guided_backprop
    from convlens.explain.saliency import saliency

    targets = as_targets(target, images.shape[0], images.device)
    gen = torch.Generator().manual_seed(seed)
    maps = {
        "saliency": saliency(model, images, targets),
        "guided backprop": guided_backprop(model, images, targets),
        "random map": torch.rand(images.shape[0], *images.shape[-2:], generator=gen).to(
            images.device
        ),
    }
    curves = {
        k: deletion_insertion(model, images, m, targets, steps=steps) for k, m in maps.items()
    }
    rows = [
        {
            "method": k,
            "deletion_auc": float(c["deletion_auc"].mean()),
            "insertion_auc": float(c["insertion_auc"].mean()),
        }
        for k, c in curves.items()
    ]
    rnd = randomisation_check(
        model,
        images,
        targets,
        {"saliency": saliency, "guided_backprop": guided_backprop},
        seed=seed,
        max_layers=max_layers,
    )
    return {
        "deletion_insertion": rows,
        "randomisation": rnd["rows"],
        "n_images": int(images.shape[0]),
        "mean_curves": {
            k: {
                "deletion": c["deletion"].mean(0).tolist(),
                "insertion": c["insertion"].mean(0).tolist(),
            }
            for k, c in curves.items()
        },
    }
