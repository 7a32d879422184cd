"""How good are the explanations? Deletion/insertion (convlens.explain.deletion) and the
model-parameter randomisation test (convlens.explain.randomisation) for saliency and guided
backprop beside a random map, as one record."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from convlens.explain.deletion import deletion_insertion_curves
from convlens.explain.model_state import as_targets
from convlens.explain.randomisation import randomisation_check
from convlens.record import key
from convlens.runtime import Runtime


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


def explanation_quality(
    model: nn.Module,
    images: torch.Tensor,
    target,
    *,
    steps: int = 24,
    max_layers: int | None = None,
    seed: int = 0,
    maps: dict[str, torch.Tensor] | None = None,
    runtime: Runtime = Runtime(),
    channels_last: bool = True,
) -> ExplanationQuality:
    """Both checks for saliency and guided backprop, with a seeded random map as the floor:
    mean deletion/insertion areas and curves, and the cascading randomisation rows.

    `maps` ({"saliency": B x H x W, "guided backprop": B x C x H x W}) are the trained model's
    maps of these images and targets when the caller has them already (the report's 2e/2f);
    otherwise both come from one shared forward pass. `channels_last`: the layout of the
    deletion/insertion frames (convlens.explain.deletion). It computes where the model and
    images are, in fp32; only `runtime`'s progress bar applies."""
    progress = runtime.progress
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
    curves = deletion_insertion_curves(
        model, images, maps, targets, steps=steps, progress=progress, channels_last=channels_last
    )
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
