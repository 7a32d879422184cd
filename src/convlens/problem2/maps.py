"""Exam steps 2e and 2f: the class saliency map (Simonyan et al. 2013, section 3.1) and the
guided backpropagation map (Springenberg et al. 2014) of each image, side by side."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from convlens.engine.forward import batched_gradients
from convlens.explain import guided_backprop, saliency
from convlens.explain.gradient_pair import saliency_and_guided
from convlens.explain.guided_backprop import positive_magnitude
from convlens.problem2.answers import MapRow, Maps
from convlens.runtime import Runtime


def saliency_and_guided_backprop(
    model: torch.nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    files: Sequence[str],
    names: Sequence[str],
    *,
    smoothgrad: int = 0,
    batch_size: int = 16,
    seed: int = 0,
    runtime: Runtime = Runtime(),
    guided: bool = True,
) -> Maps:
    """A row per image (its class and each map's largest value) and both maps, in fp32 (bf16
    gradients are too coarse for attributions: only `runtime`'s progress bar applies) where the
    model and images are, in batches of `batch_size` (SmoothGrad batch i is seeded with
    seed + i). Without
    SmoothGrad both maps of a batch come from one shared forward pass. A model without ReLUs
    (`guided` False) gets its saliency maps alone."""
    if not guided:
        sal = batched_gradients(
            lambda xb, tb, i: saliency(model, xb, tb),
            images,
            targets,
            batch_size=batch_size,
            runtime=runtime,
            desc="saliency",
        )
        rows = [
            MapRow(f, int(t), names[int(t)], float(s.max()), float("nan"))
            for f, t, s in zip(files, targets, sal, strict=True)
        ]
        return Maps(rows=rows, figure=None, saliency=sal, guided_backprop=None)

    def both(xb: torch.Tensor, tb: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if smoothgrad:
            smooth = saliency(model, xb, tb, smoothgrad_samples=smoothgrad, seed=seed + i)
            return smooth, guided_backprop(model, xb, tb)
        pair = saliency_and_guided(model, xb, tb)
        return pair.saliency, pair.guided_backprop

    sal, gbp = batched_gradients(
        both,
        images,
        targets,
        batch_size=batch_size,
        runtime=runtime,
        desc="saliency and guided backprop",
    )
    rows = [
        MapRow(f, int(t), names[int(t)], float(s.max()), float(g.max()))
        for f, t, s, g in zip(files, targets, sal, positive_magnitude(gbp), strict=True)
    ]
    return Maps(rows=rows, figure=None, saliency=sal, guided_backprop=gbp)
