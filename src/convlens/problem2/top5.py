"""Exam step 2d: the k most probable classes of each image."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from convlens.errors import ConvlensError
from convlens.predict import TopK, predict_logits, topk
from convlens.problem2.answers import Top5, Top5Row
from convlens.runtime import Runtime
from convlens.uncertainty.calibration import ClassProbability


def top5(
    model: torch.nn.Module,
    images: torch.Tensor,
    files: Sequence[str],
    names: Sequence[str],
    *,
    k: int = 5,
    batch_size: int = 64,
    runtime: Runtime = Runtime(),
    probabilities: torch.Tensor | None = None,
) -> Top5:
    """The `k` most probable classes of each image, and each image's predicted class, from a
    pass of `images` through the model in batches of `batch_size` where `runtime` says; or,
    where the caller has the model's (dropout-off) `probabilities` of these images already
    (the report, from Monte Carlo dropout's deterministic pass through the same forward loop),
    from those. Figures: convlens.figures.problem2.top5_figures."""
    _check_k(k, names)
    if probabilities is None:
        logits = predict_logits(model, images, batch_size=batch_size, runtime=runtime)
        return _rows(topk(logits, k), files, names)
    best = probabilities.float().topk(min(k, probabilities.shape[1]), dim=1)
    return _rows(TopK(best.indices, best.values), files, names)


def _check_k(k: int, names: Sequence[str]) -> None:
    if not 1 <= k <= len(names):
        raise ConvlensError(f"top-k: k must be in 1..{len(names)} (the number of classes), got {k}")


def _rows(top: TopK, files: Sequence[str], names: Sequence[str]) -> Top5:
    rows = [
        Top5Row(
            image=f,
            top=[
                ClassProbability(int(c), names[int(c)], float(p))
                for c, p in zip(top.indices[j], top.probs[j], strict=True)
            ],
        )
        for j, f in enumerate(files)
    ]
    return Top5(rows=rows, predicted=[int(i) for i in top.indices[:, 0]], figures=[])
