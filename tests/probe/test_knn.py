"""convlens.probe.knn: the k-NN and linear probes against direct scikit-learn calls."""

import pytest
from oracles import knn_accuracy
from sklearn.neighbors import KNeighborsClassifier

from convlens.probe import compare, raw_pixels


def test_knn_equals_a_direct_sklearn_call(normal):
    xtr, xte = raw_pixels(normal["a"]), raw_pixels(normal["c"])
    ours = knn_accuracy(xtr, normal["b"], xte, normal["d"], k=3)
    direct = KNeighborsClassifier(n_neighbors=3).fit(xtr, normal["b"]).score(xte, normal["d"])
    assert ours["accuracy"] == pytest.approx(direct)
    assert ours["correct"] == round(direct * len(normal["d"]))
    assert ours["accuracy"] > 0.9  # real digits are easy in pixel space
    result = compare({"raw": (xtr, xte)}, normal["b"], normal["d"], k=3, sweep=(1, 3))
    assert result.table[0].knn == pytest.approx(direct)
    assert set(result.sweep["raw"]) == {"1", "3"}


def test_the_linear_probes_pca_keeps_the_default_pcas_accuracy(normal):
    """3 power iterations instead of scikit-learn's 7: the same probe accuracy to within one
    point on real digits (3,072 pixels, so the PCA is used)."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from convlens.probe import linear_probe_accuracy

    xtr, xte = raw_pixels(normal["a"]), raw_pixels(normal["c"])
    ours = linear_probe_accuracy(xtr, normal["b"], xte, normal["d"])["accuracy"]
    default = make_pipeline(
        PCA(256, random_state=0),
        StandardScaler(),
        LogisticRegression(max_iter=2000, C=0.1, random_state=0),
    )
    reference = default.fit(xtr, normal["b"]).score(xte, normal["d"])
    assert abs(ours - reference) <= 0.01
