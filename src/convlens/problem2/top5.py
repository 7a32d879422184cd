"""Exam step 2d: the k most probable classes of each image, with a figure per image."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from convlens import plotting
from convlens.errors import ConvlensError
from convlens.explain.model_state import preserved
from convlens.predict import TopK, topk
from convlens.runtime import autocast


def top5(
    model: torch.nn.Module,
    images: torch.Tensor,
    files: Sequence[str],
    names: Sequence[str],
    display: Callable | None = None,
    figures: Path | None = None,
    prefix: str = "top5",
    k: int = 5,
    batch_size: int = 64,
    precision: str = "fp32",
    probs: torch.Tensor | None = None,
) -> dict:
    """{"rows": per image {"image", "top": [{"class_id", "name", "prob"}]}, "predicted": ids,
    "figures": names}; a figure per image (the image beside its bar chart) when `figures`
    and `display` are given. `probs` (B x K softmax) skips the forward pass when the caller
    has the model's probabilities for these images already."""
    if not 1 <= k <= len(names):
        raise ConvlensError(f"top-k: k must be in 1..{len(names)} (the number of classes), got {k}")
    if probs is None:
        device = next(model.parameters()).device
        with preserved(model), torch.no_grad():
            logits = []
            for chunk in images.split(batch_size):
                with autocast(device, precision):
                    logits.append(model(chunk.to(device)).float().cpu())
        top = topk(torch.cat(logits), k)
    else:
        best = probs.float().topk(min(k, probs.shape[1]), dim=1)
        top = TopK(best.indices, best.values)
    rows = [
        {
            "image": f,
            "top": [
                {"class_id": int(c), "name": names[int(c)], "prob": float(p)}
                for c, p in zip(top.indices[j], top.probs[j], strict=True)
            ],
        }
        for j, f in enumerate(files)
    ]
    out = {"rows": rows, "predicted": [int(i) for i in top.indices[:, 0]], "figures": []}
    if figures is not None and display is not None:
        shown = display(images)
        for j, row in enumerate(rows):
            out["figures"].append(
                plotting.image_with_topk(
                    shown[j],
                    [t["name"] for t in row["top"]],
                    [t["prob"] for t in row["top"]],
                    row["image"],
                    figures / f"{prefix}_{j}.png",
                ).name
            )
    return out
