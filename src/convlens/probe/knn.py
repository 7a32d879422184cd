"""k-NN (the exam's k = 3), cosine k-NN, a k sweep and a linear probe on feature sets."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from convlens.errors import ConvlensError
from convlens.probe.probe_records import Probe, ProbeRow
from convlens.probe.search import knn_predictions

SWEEP = (1, 3, 5, 10, 20)  # the k sweep beside the exam's k
LINEAR_MAX_DIM = 1024  # wider inputs are reduced before the linear probe
LINEAR_PCA = 256
# Power iterations of the randomized PCA: sklearn's default for this shape is 7. On 5,000 crops
# of photographs, 3 keep 99.9 % of the variance that 7 explain, x1.88 faster
# (`bench_probe_speed.py`); the spectrum of natural images decays fast (Halko et al. 2011).
LINEAR_PCA_POWER = 3


def linear_probe_accuracy(
    train_x, train_y, test_x, test_y, *, seed: int = 0, max_dim: int = LINEAR_MAX_DIM
) -> dict:
    """Standardised features, logistic regression. Wider inputs than `max_dim` (raw pixels:
    27,648 at 96 x 96) first go through a PCA fitted on the training rows only: still a linear
    probe, but seconds instead of minutes."""
    n_components = min(LINEAR_PCA, *np.shape(train_x))
    pca = PCA(n_components, iterated_power=LINEAR_PCA_POWER, random_state=seed)
    reduce = [pca] if train_x.shape[1] > max_dim else []
    clf = make_pipeline(
        *reduce, StandardScaler(), LogisticRegression(max_iter=2000, C=0.1, random_state=seed)
    )
    pred = clf.fit(train_x, train_y).predict(test_x)
    return _summary(pred, test_y)


def check_probe_labels(train_y: np.ndarray, test_y: np.ndarray, k: int) -> None:
    """A probe needs two classes to tell apart, k neighbours to vote and images to test."""
    if not 1 <= k <= len(train_y):
        raise ConvlensError(f"k must be in 1..{len(train_y)} (the training images), got {k}")
    classes, counts = np.unique(train_y, return_counts=True)
    if len(classes) < 2:
        raise ConvlensError("the probe's training images hold a single class; it needs two")
    if counts.max() < 2:
        raise ConvlensError(
            "every class has a single training image; the probe's validation split and linear "
            "probe need at least two images of some class"
        )
    if len(test_y) < 1:
        raise ConvlensError("the probe needs at least one test image")


def _summary(pred, truth) -> dict:
    truth = np.asarray(truth)
    correct = pred == truth
    per_class = {str(int(c)): float(correct[truth == c].mean()) for c in np.unique(truth)}
    return {
        "accuracy": float(correct.mean()),
        "correct": int(correct.sum()),
        "n": len(truth),
        "per_class": per_class,
    }


def linear_probe_input(train_x: np.ndarray, max_dim: int = LINEAR_MAX_DIM) -> str:
    if train_x.shape[1] <= max_dim:
        return "as is"
    return f"PCA to {min(LINEAR_PCA, *np.shape(train_x))} dimensions (fitted on train)"


def searched_ks(k: int, n_train: int, sweep=SWEEP) -> list[int]:
    """The exam's k and every k of the sweep that the training rows allow."""
    return sorted({k} | {int(kk) for kk in sweep if kk <= n_train})


def compare(
    feature_sets: dict[str, tuple[np.ndarray, np.ndarray]],
    train_y,
    test_y,
    *,
    k: int = 3,
    sweep=SWEEP,
    seed: int = 0,
    predictions: dict[str, dict] | None = None,
    layer: str = "given",
) -> Probe:
    """Every probe on every feature set (`layer` says where the features came from).

    Per feature set, one neighbour search gives the exam's k, every k of the sweep and the
    cosine k-NN (L2-normalised rows); each equals KNeighborsClassifier with that k, ties
    included (`search.nearest_sets`). `predictions` ({name: knn_predictions(...)}) passes
    in predictions already made for some sets, with every k needed."""
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    check_probe_labels(train_y, test_y, k)
    ks = searched_ks(k, len(train_y), sweep)
    rows, sweep_out = [], {}
    for name, (tr, te) in feature_sets.items():
        pred = (predictions or {}).get(name) or knn_predictions(tr, train_y, te, ks, cosine_ks=(k,))
        euclidean, cos_pred = pred["euclidean"], pred["cosine"][k]
        exam = _summary(euclidean[k], test_y)
        lin = linear_probe_accuracy(tr, train_y, te, test_y, seed=seed)
        rows.append(
            ProbeRow(
                features=name,
                dim=int(tr.shape[1]),
                k=k,
                knn=exam["accuracy"],
                correct=exam["correct"],
                n=exam["n"],
                cosine_knn=float((cos_pred == test_y).mean()),
                linear=lin["accuracy"],
                linear_input=linear_probe_input(tr),
                per_class=exam["per_class"],
            )
        )
        sweep_out[name] = {
            str(kk): float((euclidean[kk] == test_y).mean()) for kk in ks if kk in sweep
        }
    return Probe(
        k=k,
        table=rows,
        sweep=sweep_out,
        layer=layer,
        n_train=len(train_y),
        n_test=len(test_y),
        test_features={name: te for name, (_, te) in feature_sets.items()},
        test_labels=test_y,
    )
