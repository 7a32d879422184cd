"""Exam step 2d: the k most probable classes of each image."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from convlens.errors import ConvlensError
from convlens.predict import TopK, predict_logits, topk
from convlens.problem2.results import Top5, Top5Row
from convlens.uncertainty.report import ClassProbability


def top5(
    model: torch.nn.Module,
    images: torch.Tensor,
    files: Sequence[str],
    names: Sequence[str],
    *,
    k: int = 5,
    batch_size: int = 64,
    precision: str = "fp32",
    probs: torch.Tensor | None = None,
) -> Top5:
    """The `k` most probable classes of each image, and each image's predicted class. `probs`
    (B x K softmax) skips the forward pass when the caller has the model's probabilities for
    these images already. Figures: convlens.figures.problem2.top5_figures."""
    if not 1 <= k <= len(names):
        raise ConvlensError(f"top-k: k must be in 1..{len(names)} (the number of classes), got {k}")
    if probs is None:
        top = topk(predict_logits(model, images, batch_size=batch_size, precision=precision), k)
    else:
        best = probs.float().topk(min(k, probs.shape[1]), dim=1)
        top = TopK(best.indices, best.values)
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
