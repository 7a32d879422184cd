"""Exam steps 2e and 2f: the class saliency map (Simonyan et al. 2013, section 3.1) and the
guided backpropagation map (Springenberg et al. 2014) of each image, side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

from convlens import plotting
from convlens.explain import guided_backprop, saliency
from convlens.explain.gradient_pair import saliency_and_guided
from convlens.explain.guided_backprop import positive_magnitude, to_displayable


def saliency_and_guided_backprop(
    model: torch.nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    files: Sequence[str],
    names: Sequence[str],
    display: Callable,
    figure: Path | None = None,
    smoothgrad: int = 0,
    batch_size: int = 16,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """{"rows": per image {"image", "class_id", "name", "saliency_max", "guided_positive_max"},
    "figure": name or None, "saliency": B x H x W, "guided_backprop": B x C x H x W}, in fp32
    and in batches of `batch_size` (SmoothGrad batch i is seeded with seed + i). Without
    SmoothGrad both maps of a batch come from one shared forward pass."""
    sal, gbp = [], []
    batches = list(zip(images.split(batch_size), targets.split(batch_size), strict=True))
    bar = tqdm(batches, desc="saliency and guided backprop", disable=not progress, leave=False)
    for i, (xb, tb) in enumerate(bar):
        if smoothgrad:
            sal.append(saliency(model, xb, tb, smoothgrad_samples=smoothgrad, seed=seed + i))
            gbp.append(guided_backprop(model, xb, tb))
        else:
            pair = saliency_and_guided(model, xb, tb)
            sal.append(pair.saliency)
            gbp.append(pair.guided_backprop)
    sal, gbp = torch.cat(sal).cpu(), torch.cat(gbp).cpu()
    rows = [
        {
            "image": f,
            "class_id": int(t),
            "name": names[int(t)],
            "saliency_max": float(s.max()),
            "guided_positive_max": float(g.max()),
        }
        for f, t, s, g in zip(files, targets, sal, positive_magnitude(gbp), strict=True)
    ]
    out = {"rows": rows, "figure": None, "saliency": sal, "guided_backprop": gbp}
    if figure is not None:
        titles = [f"{r['image']}: {r['name']}" for r in rows]
        out["figure"] = plotting.explanation_rows(
            list(display(images)),
            {"saliency": list(sal.numpy()), "guided backprop": list(to_displayable(gbp).numpy())},
            titles,
            figure,
        ).name
    return out
