"""Labelled evaluation of an image classifier (Problem 2b): accuracy counts, per-image rows and
the predictions CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import torch

from convlens import atomic
from convlens.data.images import ImageItem
from convlens.errors import ConvlensError
from convlens.predict import accuracy_counts, predict_logits, topk


def evaluate(model, items: Sequence[ImageItem], names: Sequence[str], **kw) -> dict:
    """Top-1/top-5 accuracy with counts, per-image rows and the misclassified images."""
    if any(it.label is None for it in items):  # before the forward pass, not after it
        raise ConvlensError("evaluate needs labelled images")
    return evaluation(predict_logits(model, items, **kw), items, names)


def evaluation(logits: torch.Tensor, items: Sequence[ImageItem], names: Sequence[str]) -> dict:
    """evaluate's summary from scores already computed (N x K logits, or log-probabilities)."""
    if any(it.label is None for it in items):
        raise ConvlensError("evaluate needs labelled images")
    labels = torch.tensor([it.label for it in items])
    counts = accuracy_counts(logits, labels, ks=(1, 5))
    top = topk(logits, 5)
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
    n = len(items)
    return {
        "n": n,
        "top1_correct": counts[1],
        "top5_correct": counts[5],
        "top1": counts[1] / n,
        "top5": counts[5] / n,
        "rows": rows,
        "misclassified": [r["file"] for r in rows if not r["correct_top1"]],
    }


def write_predictions_csv(rows: list[dict], path: str | Path) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
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
