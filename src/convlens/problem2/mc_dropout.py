"""Exam step 2h: Monte Carlo dropout on each test image: the top-5 of the predictive mean with
its spread, entropy and mutual information."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from convlens.problem2.answers import Uncertainty
from convlens.runtime import Runtime
from convlens.uncertainty import mc_dropout
from convlens.uncertainty.calibration import per_image_rows
from convlens.uncertainty.mc_dropout import MCResult


def mc_dropout_rows(
    model: torch.nn.Module,
    images: torch.Tensor,
    files: Sequence[str],
    names: Sequence[str],
    *,
    samples: int = 50,
    seed: int = 0,
    runtime: Runtime = Runtime(),
    result: MCResult | None = None,
) -> Uncertainty:
    """A row per image, and the samples for its violin figure
    (convlens.figures.problem2.uncertainty_figures); in fp32 where the model and images are
    (only `runtime`'s progress bar applies). `result`: the Monte Carlo run of these images
    with these samples and seed where the caller has made it already (the report, whose 2d
    reads its dropout-off pass)."""
    r = result or mc_dropout(model, images, samples=samples, seed=seed, runtime=runtime)
    return Uncertainty(
        images=per_image_rows(r, names, files),
        figures=[],
        samples=samples,
        path=r.path,
        notes=list(r.notes),
        result=r,
    )
