"""Both checks for any set of attribution methods (convlens.explain.attributions.METHODS), not
only the exam's two: deletion/insertion areas beside a seeded random map (Petsiuk et al. 2018)
and cascading parameter randomisation (Adebayo et al. 2018, who report that gradients and
Grad-CAM change as the weights are randomised while guided backpropagation barely does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.explain.attributions import METHODS, attribution_map
from convlens.explain.deletion import deletion_insertion_curves
from convlens.explain.model_state import as_targets
from convlens.explain.randomisation import randomisation_check
from convlens.runtime import Runtime

RANDOM_MAP = "random map"


@dataclass(frozen=True)
class MethodCheck:
    """One method's checks: its mean deletion and insertion areas, and its maps' mean
    Spearman correlation with the trained model's after the top layers are re-initialised
    (one value per layer, the top one first)."""

    method: str
    deletion_auc: float
    insertion_auc: float
    randomised: list[float]


def method_checks(
    model: nn.Module,
    images: torch.Tensor,
    target,
    methods: Sequence[str] = tuple(METHODS),
    *,
    steps: int = 24,
    max_layers: int | None = 4,
    seed: int = 0,
    settings: dict[str, dict] | None = None,
    runtime: Runtime = Runtime(),
) -> tuple[list[MethodCheck], list[str]]:
    """(a check per method, then the random map's, which has no randomisation row; the
    layers randomised, top first). `settings` gives a method its own keywords (a Grad-CAM
    layer, Integrated Gradients' steps...). Computes where the model and images are, in fp32;
    only `runtime`'s progress bar applies."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ConvlensError(f"unknown method {unknown[0]!r}; expected one of {', '.join(METHODS)}")
    settings = settings or {}
    targets = as_targets(target, images.shape[0], images.device)

    def maps_of(m: nn.Module, x: torch.Tensor, t: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            name: attribution_map(METHODS[name](m, x, t, **settings.get(name, {})))
            for name in methods
        }

    originals = maps_of(model, images, targets)
    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(images.shape[0], *images.shape[-2:], generator=gen).to(images.device)
    curves = deletion_insertion_curves(
        model,
        images,
        originals | {RANDOM_MAP: noise},
        targets,
        steps=steps,
        progress=runtime.progress,
    )
    rnd = randomisation_check(
        model,
        images,
        targets,
        maps_of,
        seed=seed,
        max_layers=max_layers,
        originals=originals,
        progress=runtime.progress,
    )
    checks = [
        MethodCheck(
            name,
            float(c["deletion_auc"].mean()),
            float(c["insertion_auc"].mean()),
            [row[name] for row in rnd["rows"]] if name != RANDOM_MAP else [],
        )
        for name, c in curves.items()
    ]
    return checks, rnd["layers"]
