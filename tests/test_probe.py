import json

import numpy as np
import pytest
import torch
from oracles import knn_accuracy
from sklearn.neighbors import KNeighborsClassifier

from convlens.cli import main
from convlens.demo.normal_data import make_digits_normal
from convlens.errors import ConvlensError
from convlens.jigsaw.evaluation.inference import normalise
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.puzzle.data import load_npz
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train
from convlens.probe import compare, extract_features, raw_pixels
from convlens.problem3.probe import random_network

CFG = model_config(width=0.125, hidden=32, input_size=32)


@pytest.fixture(scope="module")
def normal():
    return make_digits_normal(size=32, seed=0)


def test_features_equal_a_plain_per_image_forward_in_eval_mode(normal):
    model = random_network(CFG, seed=3)
    with torch.no_grad():  # non-default BN statistics, so train-mode BN would differ
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
    model.train()
    x = normal["c"][:10]
    feats = extract_features(model, x, layer="pool", batch_size=4)
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        for i in range(10):
            one = model.forward_features(normalise(torch.from_numpy(x[i : i + 1])))
            np.testing.assert_allclose(feats[i], one[0].numpy(), atol=1e-5)
        fc1 = extract_features(model, x[:2], layer="fc1")
        ref = model.classifier[:2](model.forward_features(normalise(torch.from_numpy(x[:2]))))
        np.testing.assert_allclose(fc1, ref.numpy(), atol=1e-5)


def test_random_network_is_reproducible_from_its_seed():
    a, b, c = random_network(CFG, 1), random_network(CFG, 1), random_network(CFG, 2)
    assert all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


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


def test_probe_cli(normal, tmp_path, capsys):
    from convlens.demo.jigsaw_data import make_jigsaw_arrays
    from convlens.demo.photos import bundled_photographs

    jig = make_jigsaw_arrays(bundled_photographs(), n_train=96, n_test=24, size=32)
    train(
        jig["a"],
        jig["b"],
        tmp_path / "run",
        TrainConfig(epochs=1, batch_size=32, precision="fp32", model=CFG),
    )
    npz = tmp_path / "DataNormal.npz"
    np.savez(npz, **normal)
    assert load_npz(npz, kind="classes").train.labels.dtype == np.int64
    assert main(["probe", str(tmp_path / "run"), str(npz), "--json", "--out", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    names = [r["features"] for r in result["table"]]
    assert names == ["raw pixels", "de-shuffling network", "random network"]
    assert (tmp_path / "probe_embedding.png").exists()
    bad = tmp_path / "bad.npz"
    np.savez(bad, a=normal["a"], b=normal["b"][:-1], c=normal["c"], d=normal["d"])
    assert main(["probe", str(tmp_path / "run"), str(bad)]) == 2
    assert "key 'b'" in capsys.readouterr().err


def test_fc_layers_stop_before_the_head():
    """EdgeNet has one hidden layer: its fc2 would be the two seam scores, not features."""
    from convlens.errors import ConvlensError
    from convlens.jigsaw.networks.edgenet import EdgeNet
    from convlens.probe.features import feature_extractor

    edge = EdgeNet(width=0.25, hidden=16).eval()
    x = torch.rand(2, 3, 32, 32)
    assert feature_extractor(edge, "fc1")(x).shape == (2, 16)
    with pytest.raises(ConvlensError, match="fc2.*head"):
        feature_extractor(edge, "fc2")


def test_block_features_equal_a_plain_forward_through_each_block(normal):
    """The folded channels_last copy against running the model's own `features` module by
    module, per image, in eval mode, with batch-norm statistics that folding has to get right;
    the model itself is left as it was."""
    from convlens.probe.blocks import block_features

    model = random_network(model_config(arch="vgg11_bn", width=0.125, hidden=16, input_size=32), 4)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = normal["c"][:5]
    feats = block_features(model, x, batch_size=2)
    assert model.training and all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert model.features[0].weight.is_contiguous()  # not left in channels_last
    model.eval()
    assert list(feats) == [f"block{i}" for i in range(1, 6)]
    with torch.no_grad():
        for i in range(5):
            h, j = normalise(torch.from_numpy(x[i : i + 1])), 0
            for m in model.features:
                h = m(h)
                if isinstance(m, torch.nn.MaxPool2d):
                    j += 1
                    np.testing.assert_allclose(feats[f"block{j}"][i], h.mean((2, 3))[0], atol=1e-5)
    edge = block_features(random_network(CFG, 0), x)  # EdgeNet's last block has no pool
    assert list(edge) == ["block1", "block2", "block3"]


def test_features_by_name_are_the_blocks_and_layers_read_their_own_way(normal):
    """The probe's one entry for features: blocks, the pooled features and fc layers by name,
    each equal to what its own reader gives, in the order asked for."""
    from convlens.probe import features
    from convlens.probe.blocks import block_features

    model = random_network(model_config(arch="vgg11_bn", width=0.125, hidden=16, input_size=32), 4)
    x = normal["c"][:6]
    got = features(model, x, ["fc1", "block3", "pool"])
    assert list(got) == ["fc1", "block3", "pool"]
    np.testing.assert_array_equal(got["block3"], block_features(model, x)["block3"])
    np.testing.assert_array_equal(got["fc1"], extract_features(model, x, layer="fc1"))
    np.testing.assert_array_equal(got["pool"], extract_features(model, x, layer="pool"))
    assert list(features(model, x)) == [f"block{i}" for i in range(1, 6)]
    with pytest.raises(ConvlensError, match="layer 'block9': choose from block1"):
        features(model, x, ["block9"])


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


def test_cfn_is_probed_by_block_and_refuses_fc_layers(normal):
    from convlens.errors import ConvlensError
    from convlens.probe.blocks import block_features
    from convlens.probe.features import feature_extractor

    cfn = random_network(model_config(arch="cfn", width=0.125, hidden=16, input_size=32), 0)
    feats = block_features(cfn, normal["c"][:3])
    assert [f.shape[1] for f in feats.values()] == [8, 16, 32, 64, 64]
    with pytest.raises(ConvlensError, match="four tiles"):
        feature_extractor(cfn, "fc1")
    assert extract_features(cfn, normal["c"][:3]).shape == (3, 64)


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
