"""Independent references the tests compare convlens against (scikit-learn used directly)."""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from convlens.jigsaw.puzzle.permutations import PERMUTATIONS, inverse


def knn_accuracy(train_x, train_y, test_x, test_y, k: int = 3, cosine: bool = False) -> dict:
    """KNeighborsClassifier's test accuracy and count (after a Normalizer for cosine k-NN)."""
    steps = [Normalizer()] if cosine else []
    clf = make_pipeline(*steps, KNeighborsClassifier(n_neighbors=k))
    correct = clf.fit(train_x, train_y).predict(test_x) == np.asarray(test_y)
    return {"accuracy": float(correct.mean()), "correct": int(correct.sum())}


def brute_force_orders(pair_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every arrangement of the four tiles, scored seam by seam with the exam's semantics:
    order o puts shuffled tile i at position o[i]; the tile at each position is inverse(o)."""
    pairs = {p: k for k, p in enumerate(itertools.permutations(range(4), 2))}
    logits = np.zeros((len(pair_scores), 24))
    for n, scores in enumerate(pair_scores):
        for o, order in enumerate(PERMUTATIONS):
            at = inverse(order[None])[0]  # at[position] = shuffled tile there
            logits[n, o] = (
                scores[pairs[(at[0], at[1])]]
                + scores[pairs[(at[2], at[3])]]
                + scores[12 + pairs[(at[0], at[2])]]
                + scores[12 + pairs[(at[1], at[3])]]
            )
    return logits, PERMUTATIONS[logits.argmax(1)]
