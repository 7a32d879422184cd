"""convlens.probe.search: one neighbour search gives scikit-learn's answer for every k."""

import numpy as np
import pytest
import torch
from oracles import knn_accuracy
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from convlens.demo.photos import bundled_photographs, random_crops
from convlens.probe import compare, raw_pixels
from convlens.probe.search import _pairwise_sum, bounded_products, knn_predictions, nearest_sets


@pytest.fixture(scope="module")
def crops():
    """Raw pixels of 32 x 32 crops (3,072 columns: 24 partial products) and their photograph."""
    rng = np.random.default_rng(0)
    x, y = [], []
    for c, photo in enumerate(bundled_photographs().values()):
        x += list(random_crops(photo, 40, 32, rng))
        y += [c] * 40
    x, y = raw_pixels(np.stack(x)), np.array(y)
    order = rng.permutation(len(x))
    return x[order[:300]], y[order[:300]], x[order[300:]], y[order[300:]]


def reference_sets(train, query, k):
    clf = KNeighborsClassifier(n_neighbors=k).fit(train, np.zeros(len(train)))
    return clf.kneighbors(query, return_distance=False)


def assert_same_sets(ours, reference):
    assert [set(r) for r in ours] == [set(r) for r in reference]


def test_one_neighbour_search_gives_sklearn_for_every_k(normal):
    """The fast path (votes read off one search) against KNeighborsClassifier per k on real
    digits; then the exam's k on a few binarised pixels, where equal distances and tied votes
    are everywhere."""
    xtr, xte = raw_pixels(normal["a"]), raw_pixels(normal["c"])
    ks = (1, 2, 3, 4, 5, 10, 20)
    result = compare({"f": (xtr, xte)}, normal["b"], normal["d"], k=3, sweep=ks)
    for k in ks:
        clf = KNeighborsClassifier(n_neighbors=k).fit(xtr, normal["b"])
        assert result.sweep["f"][str(k)] == clf.score(xte, normal["d"]), k
    coarse_tr, coarse_te = (xtr[:, ::211] > 0.5) * 1.0, (xte[:, ::211] > 0.5) * 1.0
    for k in (2, 3, 4):
        result = compare({"f": (coarse_tr, coarse_te)}, normal["b"], normal["d"], k=k)
        reference = KNeighborsClassifier(n_neighbors=k).fit(coarse_tr, normal["b"])
        assert result.table[0].knn == reference.score(coarse_te, normal["d"]), k
        cos = knn_accuracy(coarse_tr, normal["b"], coarse_te, normal["d"], k=k, cosine=True)
        assert result.table[0].cosine_knn == cos["accuracy"]


def test_the_bound_holds_against_float64_products(crops):
    """The float32 pass's products are within their stated bound of exact ones (float64
    products of float32 numbers are exact; float64 sums of 3,072 are off by about 1e-13)."""
    train, _, query, _ = crops
    exact = query.astype(np.float64) @ train.astype(np.float64).T
    norms = np.linalg.norm(query, axis=1)[:, None] * np.linalg.norm(train, axis=1)[None]
    for start, product, gamma in bounded_products(train, query):
        rows = slice(start, start + len(product))
        off = np.abs(product.numpy() - exact[rows])
        assert (off <= gamma * norms[rows]).all()
        assert off.max() > 0  # float32 rounding is there, and the bound is not vacuous:
        assert gamma * norms[rows].min() < 0.01 * np.abs(exact[rows]).min()


@pytest.mark.parametrize("ks", [(1, 3, 5, 10, 20), (2,), (300,)])
def test_sets_equal_kneighborsclassifier_on_photographs(crops, ks):
    train, _, query, _ = crops
    found = nearest_sets(train, query, ks)
    assert found.settled["float32"] > 0  # the fast pass does the work
    for k in ks:
        assert_same_sets(found.sets[k], reference_sets(train, query, k))


def test_cosine_sets_from_the_same_product_equal_a_normalizer_pipeline(crops):
    train, labels, query, _ = crops
    train = train.copy()
    train[0] = 0  # a black image: normalising leaves it at zero
    found = nearest_sets(train, query, (3,), cosine_ks=(1, 3, 7))
    assert found.settled["float32"] > 0.9 * 4 * len(query)
    for k in (1, 3, 7):
        pipe = make_pipeline(Normalizer(), KNeighborsClassifier(n_neighbors=k)).fit(train, labels)
        reference = pipe[-1].kneighbors(pipe[0].transform(query), return_distance=False)
        assert_same_sets(found.cosine[k], reference)
    assert_same_sets(found.sets[3], reference_sets(train, query, 3))


def test_predictions_equal_kneighborsclassifier(crops):
    train, labels, query, _ = crops
    predicted = knn_predictions(train, labels, query, (1, 4, 10))["euclidean"]
    for k, pred in predicted.items():
        assert np.array_equal(
            pred, KNeighborsClassifier(n_neighbors=k).fit(train, labels).predict(query)
        )


def test_near_ties_go_to_float64_and_real_ties_to_scikit_learn(crops):
    """Training rows a hair apart (float32 cannot order them, float64 can) and exact
    duplicates (only KNeighborsClassifier's own tie-break can decide)."""
    train, _, query, _ = crops
    rng = np.random.default_rng(1)
    hair = train[:50] + np.float32(2e-3) * (rng.random(train[:50].shape) < 0.01)
    near = np.concatenate([train, hair.astype(np.float32), train[50:60]])
    probes = np.concatenate([train[:50] + np.float32(1e-3), query[:20]]).astype(np.float32)
    found = nearest_sets(near, probes, (1, 2, 3))
    assert found.settled["float64"] > 0
    assert found.settled["scikit-learn"] > 0
    for k in (1, 2, 3):
        assert_same_sets(found.sets[k], reference_sets(near, probes, k))


def test_binary_features_are_all_ties_and_still_exact(crops):
    train, labels, query, _ = crops
    coarse_train = (train[:, ::97] > 0.5).astype(np.float32)
    coarse_query = (query[:, ::97] > 0.5).astype(np.float32)
    for k in (1, 2, 3, 4):
        clf = KNeighborsClassifier(n_neighbors=k).fit(coarse_train, labels)
        predicted = knn_predictions(coarse_train, labels, coarse_query, (k,), cosine_ks=(k,))
        assert np.array_equal(predicted["euclidean"][k], clf.predict(coarse_query))
        cosine = make_pipeline(Normalizer(), KNeighborsClassifier(n_neighbors=k))
        cosine.fit(coarse_train, labels)
        assert np.array_equal(predicted["cosine"][k], cosine.predict(coarse_query))


def test_float64_inputs_and_lowered_matmul_precision_skip_the_float32_pass(crops):
    train, _, query, _ = crops
    found = nearest_sets(train.astype(np.float64), query.astype(np.float64), (3,))
    assert found.settled["float32"] == 0
    assert_same_sets(found.sets[3], reference_sets(train, query, 3))
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("medium")  # float32 products may use bfloat16
        found = nearest_sets(train, query, (3,))
    finally:
        torch.set_float32_matmul_precision(before)
    assert found.settled["float32"] == 0
    assert_same_sets(found.sets[3], reference_sets(train, query, 3))


def test_pairwise_sum_adds_every_part():
    parts = [torch.full((2, 2), float(i)) for i in range(1, 12)]
    for n in (1, 2, 3, 8, 11):
        total = _pairwise_sum(p.clone() for p in parts[:n])
        assert torch.equal(total, torch.full((2, 2), float(n * (n + 1) // 2)))


def test_k_outside_the_training_rows_is_refused(crops):
    train, _, query, _ = crops
    with pytest.raises(ValueError, match="1..300"):
        nearest_sets(train, query, (301,))
