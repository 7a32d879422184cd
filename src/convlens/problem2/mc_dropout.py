"""Exam step 2h: Monte Carlo dropout on each test image: the top-5 of the predictive mean with
its spread, entropy and mutual information, and a violin figure per image."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from convlens import plotting
from convlens.uncertainty import mc_dropout
from convlens.uncertainty.mc_dropout import MCResult
from convlens.uncertainty.report import per_image_rows


def mc_dropout_rows(
    model: torch.nn.Module,
    images: torch.Tensor,
    files: Sequence[str],
    names: Sequence[str],
    display: Callable,
    figures: Path | None = None,
    prefix: str = "uncertainty",
    samples: int = 50,
    seed: int = 0,
    progress: bool = False,
    result: MCResult | None = None,
) -> dict:
    """{"images": per-image rows, "figures": names, "samples", "path", "notes"}; `result` is
    `mc_dropout(model, images, samples, seed)` when the caller has run it already."""
    r = result or mc_dropout(model, images, samples=samples, seed=seed, progress=progress)
    out = {
        "images": per_image_rows(r, names, files),
        "figures": [],
        "samples": samples,
        "path": r.path,
        "notes": r.notes,
    }
    if figures is not None and r.samples is not None:
        shown = display(images)
        for i, f in enumerate(files):
            ids = r.topk_ids[i]
            out["figures"].append(
                plotting.image_with_violins(
                    shown[i],
                    r.samples[:, i, ids].numpy(),
                    [names[int(c)] for c in ids],
                    f,
                    figures / f"{prefix}_{i}.png",
                    deterministic=r.deterministic[i, ids].numpy(),
                ).name
            )
    return out
