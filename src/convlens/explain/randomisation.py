"""Model-parameter randomisation (Adebayo et al. 2018): re-initialise layers from the top down;
a map that explains the model should change, so its rank correlation with the original map
should drop."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import numpy as np
import torch
from scipy import stats
from torch import nn

from convlens.explain.model_state import as_targets
from convlens.progress import progress_bar
from convlens.seeding import seeded


def _weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules with their own weights, in registration order (input side first)."""
    return [
        (name, m)
        for name, m in model.named_modules()
        if getattr(m, "weight", None) is not None and not list(m.children())
    ]


def spearman_rows(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """Spearman rank correlation between matching rows of two B x ... tensors; NaN for a
    constant row (a map that randomised weights left all zero), which the means leave out, so
    scipy's warning about it would only alarm the reader."""
    a = a.detach().flatten(1).double().cpu().numpy()
    b = b.detach().flatten(1).double().cpu().numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
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
    rows = []
    with seeded(seed):
        for layer_name, layer in progress_bar(layers, "randomisation check", progress):
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
    return {"layers": [r["layer"] for r in rows], "rows": rows}
