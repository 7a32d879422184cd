"""Exam step 2b: top-1 and top-5 accuracy on the labelled validation images, with a row per
image and a CSV of every prediction."""

from __future__ import annotations

import csv as csv_module
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from convlens import atomic
from convlens.data.images import ImageItem
from convlens.data.transforms import preprocess
from convlens.errors import ConvlensError
from convlens.predict import accuracy_counts, predict_logits, topk
from convlens.problem2.answers import ValidationAccuracy
from convlens.runtime import Runtime


def validation_accuracy(
    model,
    items: Sequence[ImageItem],
    names: Sequence[str],
    *,
    csv: Path | None = None,
    batch_size: int = 16,
    workers: int = 0,
    runtime: Runtime = Runtime(),
    probabilities: torch.Tensor | None = None,
    transform: Callable = preprocess,
) -> ValidationAccuracy:
    """Accuracy counts, the misclassified images and a row per image; predictions.csv at `csv`
    when given. The images are read by `workers` processes and go through the model in batches
    of `batch_size`, where `runtime` says; or, where the caller has the model's (dropout-off)
    `probabilities` of these images already (the report, from Monte Carlo dropout's
    deterministic pass through the same forward loop), those are ranked instead."""
    _labelled(items)  # before the forward pass, not after it
    if probabilities is not None:
        scores = torch.log(probabilities.clamp_min(1e-30))
    else:
        scores = predict_logits(
            model,
            items,
            batch_size=batch_size,
            workers=workers,
            runtime=runtime,
            transform=transform,
        )
    return _of_scores(scores, items, names, csv=csv)


def _of_scores(
    scores: torch.Tensor, items: Sequence[ImageItem], names: Sequence[str], *, csv=None
) -> ValidationAccuracy:
    """From N x K logits or log-probabilities of `items`."""
    labels = torch.tensor(_labelled(items))
    counts = accuracy_counts(scores, labels, ks=(1, 5))
    top = topk(scores, 5)
    rows = []
    for i, item in enumerate(items):
        ids = [int(c) for c in top.indices[i]]
        rows.append(
            {
                "file": Path(item.name.split(":")[-1]).name,
                "true_id": int(item.label),
                "true_name": names[item.label],
                "top5_ids": ids,
                "top5_names": [names[c] for c in ids],
                "top5_probs": [round(float(p), 6) for p in top.probs[i]],
                "correct_top1": ids[0] == item.label,
                "correct_top5": item.label in ids,
            }
        )
    if csv is not None:
        write_predictions_csv(rows, csv)
    n = len(items)
    return ValidationAccuracy(
        n=n,
        top1=counts[1] / n,
        top5=counts[5] / n,
        top1_correct=counts[1],
        top5_correct=counts[5],
        misclassified=[r["file"] for r in rows if not r["correct_top1"]],
        rows=rows,
    )


def _labelled(items: Sequence[ImageItem]) -> list[int]:
    if any(it.label is None for it in items):
        raise ConvlensError("evaluate needs labelled images")
    return [it.label for it in items]


def write_predictions_csv(rows: list[dict], path: str | Path) -> Path:
    buf = io.StringIO()
    writer = csv_module.writer(buf)
    writer.writerow(["file", "true_id", "true_name", "top5_ids", "top5_names", "top5_probs"])
    for r in rows:
        writer.writerow(
            [
                r["file"],
                r["true_id"],
                r["true_name"],
                " ".join(map(str, r["top5_ids"])),
                " | ".join(r["top5_names"]),
                " ".join(f"{p:.6f}" for p in r["top5_probs"]),
            ]
        )
    return atomic.write_text(path, buf.getvalue())
