"""Independent references the tests compare convlens against (scikit-learn used directly)."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer


def knn_accuracy(train_x, train_y, test_x, test_y, k: int = 3, cosine: bool = False) -> dict:
    """KNeighborsClassifier's test accuracy and count (after a Normalizer for cosine k-NN)."""
    steps = [Normalizer()] if cosine else []
    clf = make_pipeline(*steps, KNeighborsClassifier(n_neighbors=k))
    correct = clf.fit(train_x, train_y).predict(test_x) == np.asarray(test_y)
    return {"accuracy": float(correct.mean()), "correct": int(correct.sum())}
