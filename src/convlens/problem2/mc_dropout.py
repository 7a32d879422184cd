"""Exam step 2h: Monte Carlo dropout on each test image: the top-5 of the predictive mean with
its spread, entropy and mutual information."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from convlens.problem2.results import Uncertainty
from convlens.uncertainty import mc_dropout
from convlens.uncertainty.mc_dropout import MCResult
from convlens.uncertainty.report import per_image_rows


def mc_dropout_rows(
    model: torch.nn.Module,
    images: torch.Tensor,
    files: Sequence[str],
    names: Sequence[str],
    *,
    samples: int = 50,
    seed: int = 0,
    progress: bool = False,
    result: MCResult | None = None,
) -> Uncertainty:
    """A row per image, and the samples for its violin figure
    (convlens.figures.problem2.uncertainty_figures); `result` is
    `mc_dropout(model, images, samples, seed)` when the caller has run it already."""
    r = result or mc_dropout(model, images, samples=samples, seed=seed, progress=progress)
    return Uncertainty(
        images=per_image_rows(r, names, files),
        figures=[],
        samples=samples,
        path=r.path,
        notes=list(r.notes),
        result=r,
    )
