"""Exam step 2b: top-1 and top-5 accuracy on the labelled validation images, with a CSV of
every prediction."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from convlens import classification
from convlens.data.images import ImageItem
from convlens.problem2.results import ValidationAccuracy


def validation_accuracy(
    model,
    items: Sequence[ImageItem],
    names: Sequence[str],
    *,
    csv: Path | None = None,
    scores: torch.Tensor | None = None,
    **inference,
) -> ValidationAccuracy:
    """Accuracy counts, the misclassified images and a row per image; predictions.csv at `csv`
    when given. `scores` (N x K logits or log-probabilities of these images) skips the forward
    pass when the caller has them; otherwise `inference` (batch_size, device, precision,
    progress) goes to the model's batched pass."""
    if scores is None:
        result = classification.evaluate(model, items, names, **inference)
    else:
        result = classification.evaluation(scores, items, names)
    if csv is not None:
        classification.write_predictions_csv(result["rows"], csv)
    return ValidationAccuracy(
        n=result["n"],
        top1=result["top1"],
        top5=result["top5"],
        top1_correct=result["top1_correct"],
        top5_correct=result["top5_correct"],
        misclassified=result["misclassified"],
        rows=result["rows"],
    )
