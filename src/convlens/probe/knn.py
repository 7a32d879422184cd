"""k-NN (the exam's k = 3), cosine k-NN, a k sweep and a linear probe on feature sets."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler


def knn_accuracy(train_x, train_y, test_x, test_y, k: int = 3, cosine: bool = False) -> dict:
    """Test accuracy of sklearn's KNeighborsClassifier, with counts and per-class accuracy."""
    steps = [Normalizer()] if cosine else []
    clf = make_pipeline(*steps, KNeighborsClassifier(n_neighbors=k))
    pred = clf.fit(train_x, train_y).predict(test_x)
    return _summary(pred, test_y)


def linear_probe_accuracy(train_x, train_y, test_x, test_y, seed: int = 0) -> dict:
    clf = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=2000, C=0.1, random_state=seed)
    )
    pred = clf.fit(train_x, train_y).predict(test_x)
    return _summary(pred, test_y)


def _summary(pred, truth) -> dict:
    truth = np.asarray(truth)
    correct = pred == truth
    per_class = {int(c): float(correct[truth == c].mean()) for c in np.unique(truth)}
    return {
        "accuracy": float(correct.mean()),
        "correct": int(correct.sum()),
        "n": len(truth),
        "per_class": per_class,
    }


def compare(
    feature_sets: dict[str, tuple[np.ndarray, np.ndarray]],
    train_y,
    test_y,
    k: int = 3,
    sweep=(1, 3, 5, 10, 20),
    seed: int = 0,
) -> dict:
    """Every probe on every feature set: {'table': rows, 'sweep': {name: {k: acc}}, ...}."""
    rows, sweep_out = [], {}
    for name, (tr, te) in feature_sets.items():
        exam = knn_accuracy(tr, train_y, te, test_y, k)
        cos = knn_accuracy(tr, train_y, te, test_y, k, cosine=True)
        lin = linear_probe_accuracy(tr, train_y, te, test_y, seed)
        rows.append(
            {
                "features": name,
                "dim": int(tr.shape[1]),
                f"knn{k}": exam["accuracy"],
                "correct": exam["correct"],
                "n": exam["n"],
                f"cosine_knn{k}": cos["accuracy"],
                "linear": lin["accuracy"],
                "per_class": exam["per_class"],
            }
        )
        sweep_out[name] = {
            int(kk): knn_accuracy(tr, train_y, te, test_y, int(kk))["accuracy"]
            for kk in sweep
            if kk <= len(train_y)
        }
    return {"k": k, "table": rows, "sweep": sweep_out}
