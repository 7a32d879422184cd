"""Choosing what a probe reads (which block, standardised or not) without touching test labels.

The choice is made on a stratified validation split of the probe's *training* images: k-NN is
fitted on the rest of them and scored on that split. Only then are the chosen features of the
whole training set used to classify the test set. The functions here never receive test data,
so the test set cannot leak into the choice.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from convlens.probe.search import knn_predictions

VAL_FRACTION = 0.2


def standardise(train_x: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Each column to zero mean and unit variance, with the statistics of `train_x` only."""
    scaler = StandardScaler().fit(train_x)
    return [scaler.transform(x).astype(np.float32) for x in (train_x, *others)]


def validation_split(
    labels: np.ndarray, seed: int, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, validation rows) of the probe's training set, stratified by class when every
    class has two images.

    With `groups` (e.g. the region of a photograph each crop was cut from), each class with
    two or more groups gives one whole group, drawn at random, to validation: overlapping
    crops of one region on both sides would make validation reward near-duplicates."""
    labels = np.asarray(labels)
    rows = np.arange(len(labels))
    if groups is not None:
        return _group_split(labels, np.asarray(groups), seed)
    counts = np.unique(labels, return_counts=True)[1]
    stratify = labels if counts.min() >= 2 else None
    n_val = max(len(counts), int(round(len(labels) * VAL_FRACTION)))
    if n_val >= len(labels):
        n_val = max(1, len(labels) // 2)
        stratify = None
    fit, val = train_test_split(rows, test_size=n_val, random_state=seed, stratify=stratify)
    return np.sort(fit), np.sort(val)


def _group_split(labels, groups, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    val = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        in_class = labels == c
        names = np.unique(groups[in_class])
        if len(names) >= 2:
            val |= in_class & (groups == names[rng.integers(len(names))])
    return np.flatnonzero(~val), np.flatnonzero(val)


def knn_score(train_x, train_y, test_x, test_y, k: int) -> float:
    """KNeighborsClassifier(n_neighbors=k)'s accuracy (k capped at the training rows)."""
    k = min(k, len(train_y))
    predicted = knn_predictions(train_x, train_y, test_x, (k,))["euclidean"][k]
    return float((predicted == np.asarray(test_y)).mean())


def validation_scores(
    candidates: dict[str, np.ndarray],
    labels: np.ndarray,
    k: int,
    seed: int,
    *,
    groups: np.ndarray | None = None,
) -> list[dict]:
    """k-NN validation accuracy of every candidate feature set (rows of the probe's training
    images), raw and standardised: rows {'features', 'standardised', 'val_knn'}."""
    labels = np.asarray(labels)
    fit, val = validation_split(labels, seed, groups)
    rows = []
    for name, x in candidates.items():
        for standardised in (False, True):
            xf, xv = standardise(x[fit], x[val]) if standardised else (x[fit], x[val])
            score = knn_score(xf, labels[fit], xv, labels[val], k)
            rows.append({"features": name, "standardised": standardised, "val_knn": score})
    return rows


def best(rows: list[dict]) -> dict:
    """The row with the highest validation accuracy; a tie keeps the earlier (shallower, or
    unstandardised) candidate, the simpler choice."""
    return max(rows, key=lambda r: r["val_knn"])
