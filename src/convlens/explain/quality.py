"""How good are the explanations? Both checks for any set of attribution methods
(convlens.explain.attributions.METHODS), as one record: deletion/insertion areas beside a
seeded random map (Petsiuk et al. 2018, convlens.explain.deletion) and cascading parameter
randomisation (Adebayo et al. 2018, convlens.explain.randomisation), who report that gradients
and Grad-CAM change as the weights are randomised while guided backpropagation barely does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.explain.attributions import METHODS
from convlens.explain.deletion import deletion_insertion_curves
from convlens.explain.model_state import as_targets
from convlens.explain.randomisation import randomisation_check
from convlens.record import key
from convlens.runtime import Runtime

RANDOM_MAP = "random map"
EXAM_METHODS = ("saliency", "guided backprop")  # the exam's 2e and 2f


@dataclass(frozen=True)
class MethodCheck:
    """One method's checks: its mean deletion and insertion areas, and its maps' mean
    Spearman correlation with the trained model's after the top layers are re-initialised
    cumulatively (one value per layer of ExplanationQuality.layers; none for the random map)."""

    method: str
    deletion_auc: float
    insertion_auc: float
    randomised: list[float]


@dataclass(frozen=True)
class ExplanationQuality:
    """Both checks over `n_images`: a MethodCheck per method, the random map's last; `layers`
    re-initialised, the top one first. `mean_curves` ({method: {"deletion", "insertion"}}, the
    mean curves for a figure) is not stored in results.json."""

    checks: list[MethodCheck]
    layers: list[str]
    n_images: int
    mean_curves: dict | None = key(stored=False, default=None)

    def of(self, method: str) -> MethodCheck | None:
        return next((c for c in self.checks if c.method == method), None)

    @property
    def methods(self) -> list[str]:
        return [c.method for c in self.checks if c.method != RANDOM_MAP]

    def area_rows(self) -> list[dict]:
        """A table row per map: the method, its deletion and insertion areas."""
        return [
            {"method": c.method, "deletion_auc": c.deletion_auc, "insertion_auc": c.insertion_auc}
            for c in self.checks
        ]

    def randomisation_rows(self) -> list[dict]:
        """A table row per layer re-initialised (with every layer above it): each method's
        mean Spearman correlation with the trained model's maps."""
        return [
            {"layer": layer} | {c.method: c.randomised[i] for c in self.checks if c.randomised}
            for i, layer in enumerate(self.layers)
        ]


def _maps_function(methods: Sequence[str], settings: dict[str, dict]):
    """(model, images, targets) -> {method: maps}; saliency and guided backprop together share
    one forward pass (convlens.explain.gradient_pair) when both are asked for."""
    from convlens.explain.gradient_pair import saliency_and_guided

    pair = all(m in methods for m in EXAM_METHODS) and not any(m in settings for m in EXAM_METHODS)

    def maps_of(m: nn.Module, x: torch.Tensor, t: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        if pair:
            both = saliency_and_guided(m, x, t)
            out = {"saliency": both.saliency, "guided backprop": both.guided_backprop}
        for name in methods:
            if name not in out:
                out[name] = METHODS[name](m, x, t, **settings.get(name, {}))
        return {name: out[name] for name in methods}

    return maps_of


def explanation_quality(
    model: nn.Module,
    images: torch.Tensor,
    target,
    methods: Sequence[str] = EXAM_METHODS,
    *,
    steps: int = 24,
    max_layers: int | None = None,
    seed: int = 0,
    maps: dict[str, torch.Tensor] | None = None,
    settings: dict[str, dict] | None = None,
    runtime: Runtime = Runtime(),
    channels_last: bool = True,
) -> ExplanationQuality:
    """Both checks for `methods`, with a seeded random map as the floor. `settings` gives a
    method its own keywords (a Grad-CAM layer, Integrated Gradients' steps...). `maps`
    ({method: maps}) are the trained model's maps of these images and targets where the caller
    has them already (the report's 2e/2f), so they are not computed again. `channels_last`: the
    layout of the deletion/insertion frames. Computes where the model and images are, in fp32;
    only `runtime`'s progress bar applies."""
    methods = list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ConvlensError(
            f"unknown method {unknown[0]!r}; expected some of {', '.join(METHODS)}"
            if unknown
            else f"no method to check; expected some of {', '.join(METHODS)}"
        )
    targets = as_targets(target, images.shape[0], images.device)
    maps_of = _maps_function(methods, settings or {})
    given = maps or {}
    missing = [m for m in methods if m not in given]
    # only the methods not handed in are computed for the trained model
    computed = _maps_function(missing, settings or {})(model, images, targets) if missing else {}
    # As each method returns them: deletion folds channels by their largest |value|, the
    # randomisation test compares absolute maps element by element
    originals = {m: given[m] if m in given else computed[m] for m in methods}
    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(images.shape[0], *images.shape[-2:], generator=gen).to(images.device)
    curves = deletion_insertion_curves(
        model,
        images,
        originals | {RANDOM_MAP: noise},
        targets,
        steps=steps,
        progress=runtime.progress,
        channels_last=channels_last,
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
    return ExplanationQuality(
        checks=[
            MethodCheck(
                name,
                float(c["deletion_auc"].mean()),
                float(c["insertion_auc"].mean()),
                [row[name] for row in rnd["rows"]] if name != RANDOM_MAP else [],
            )
            for name, c in curves.items()
        ],
        layers=rnd["layers"],
        n_images=int(images.shape[0]),
        mean_curves={
            k: {
                "deletion": c["deletion"].mean(0).tolist(),
                "insertion": c["insertion"].mean(0).tolist(),
            }
            for k, c in curves.items()
        },
    )
