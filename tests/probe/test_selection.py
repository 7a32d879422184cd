"""convlens.probe.selection: the probe's choice of block and scaling never reads the test labels."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train
from convlens.problem3.probe import random_network

CFG = model_config(width=0.125, hidden=32, input_size=32)


def test_the_probe_choice_never_reads_test_labels(normal, tmp_path):
    """Shuffling the test labels changes the test scores but not one choice or validation
    score: block and standardisation are chosen on the training images alone."""
    from convlens.demo.jigsaw_data import make_jigsaw_arrays
    from convlens.demo.photos import bundled_photographs
    from convlens.jigsaw.puzzle.data import NpzData, Split
    from convlens.problem3.probe import probe_run

    jig = make_jigsaw_arrays(bundled_photographs(), n_train=96, n_test=24, size=32)
    cfg = TrainConfig(epochs=1, batch_size=32, precision="fp32", model=CFG)
    train(jig["a"], jig["b"], tmp_path / "run", cfg)
    rng = np.random.default_rng(0)
    test_y = normal["d"]
    results = []
    for labels in (test_y, rng.permutation(test_y), np.zeros_like(test_y)):
        data = NpzData(Split(normal["a"], normal["b"]), Split(normal["c"], labels), "d", "uint8")
        results.append(probe_run(tmp_path / "run", data))
    first = results[0]
    assert set(first.choices) == {"raw pixels", "de-shuffling network", "random network"}
    for other in results[1:]:
        assert other.choices == first.choices
        assert [r.val_knn for r in other.layers] == [r.val_knn for r in first.layers]
    assert results[1].table[0].knn < first.table[0].knn  # test labels were used
    # the table holds every candidate: raw pixels x 2, three EdgeNet blocks x 2 per network
    assert len(first.layers) == 2 + 2 * 3 * 2
    chosen = [r for r in first.layers if r.chosen]
    assert len(chosen) == 3
    for row in chosen:  # the chosen row has the best validation score of its network
        same = [r.val_knn for r in first.layers if r.network == row.network]
        assert row.val_knn == max(same)
        assert first.choices[row.network].block == row.block
    assert first.raw.knn > 0.9  # real digits in pixel space
    # the second twin chooses its own block on validation, never on the test labels either
    twin = first.differences["random network, second seed"]
    assert all(
        r.differences["random network, second seed"].twin_choice == twin.twin_choice
        for r in results[1:]
    )
    # and its accuracy is a plain k-NN on that block of a network seeded seed + 1
    from convlens.probe.features import features

    net = random_network(CFG, 1)
    block = twin.twin_choice.block
    tr, te = (features(net, x, [block])[block] for x in (normal["a"], normal["c"]))
    if twin.twin_choice.standardised:
        mean, std = tr.mean(0), np.where(tr.std(0) > 0, tr.std(0), 1.0)
        tr, te = (tr - mean) / std, (te - mean) / std
    knn = KNeighborsClassifier(3).fit(tr, normal["b"])
    assert twin.twin_accuracy == pytest.approx((knn.predict(te) == test_y).mean(), abs=0.02)


def test_validation_split_is_stratified_and_disjoint(normal):
    from convlens.probe.selection import validation_split

    fit, val = validation_split(normal["b"], seed=0)
    assert not set(fit) & set(val) and len(fit) + len(val) == len(normal["b"])
    share = np.bincount(normal["b"][val], minlength=10) / np.bincount(normal["b"], minlength=10)
    assert share.min() > 0.1 and share.max() < 0.3  # about 20 % of every class
