"""Exam step 2b: top-1 and top-5 accuracy on the labelled validation images, with a CSV of
every prediction."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from convlens import classification
from convlens.data.images import ImageItem

SUMMARY = ("n", "top1", "top5", "top1_correct", "top5_correct", "misclassified")


def validation_accuracy(
    model,
    items: Sequence[ImageItem],
    names: Sequence[str],
    csv: Path | None = None,
    **inference,
) -> dict:
    """classification.evaluate's summary and rows; predictions.csv at `csv` when given.
    `inference`: batch_size, device, precision, progress."""
    result = classification.evaluate(model, items, names, **inference)
    if csv is not None:
        classification.write_predictions_csv(result["rows"], csv)
    return result
