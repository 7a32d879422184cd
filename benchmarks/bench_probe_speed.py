"""The 3c probe on 5,000 training and 2,000 test images of 96 x 96 (crops of real photographs,
one class per photograph), each part against the way convlens did it before, in the same run:

* the classifiers on raw pixels: one neighbour search per feature set (`nearest_sets`: float32
  products with a proven bound, cosine read off the same product) and a PCA-256 linear probe,
  against a KNeighborsClassifier fit and search per k and again for cosine; the k-NN
  accuracies must be identical. `--full-logistic` adds logistic regression on all 27,648
  pixels (more than 10 minutes at 5,000 / 2,000);
* the PCA: 3 power iterations against scikit-learn's default 7 (time, variance kept);
* `--features`: block features from the folded channels_last copy against hooks on the model;
* `--command`: the whole `convlens probe RUN DataNormal.npz` (target 120 s).
"""

import time

import numpy as np
import torch
from common import PROBLEM2, header
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from convlens.demo.jigsaw_data import collect_photographs
from convlens.demo.photos import random_crops
from convlens.probe import compare, raw_pixels
from convlens.probe.search import nearest_sets


def photo_classes(n_train: int, n_test: int, size: int = 96, seed: int = 0):
    photos = collect_photographs([PROBLEM2 / "validation_images"])
    names = sorted(photos)
    rng = np.random.default_rng(seed)
    per = (n_train + n_test) // len(names) + 1
    x, y = [], []
    for c, name in enumerate(names):
        x += list(random_crops(photos[name], per, size, rng))
        y += [c] * per
    x, y = np.stack(x), np.array(y)
    order = rng.permutation(len(x))
    tr, te = order[:n_train], order[n_train : n_train + n_test]
    return x[tr], y[tr], x[te], y[te], len(names)


def _sklearn_knn(tr, ytr, te, yte, k: int, cosine: bool = False) -> float:
    steps = [Normalizer()] if cosine else []
    return make_pipeline(*steps, KNeighborsClassifier(n_neighbors=k)).fit(tr, ytr).score(te, yte)


def old_searches(tr, ytr, te, yte, k=3, sweep=(1, 3, 5, 10, 20)):
    """A KNeighborsClassifier per k of the sweep and one with a Normalizer for cosine."""
    ks = {str(kk): _sklearn_knn(tr, ytr, te, yte, kk) for kk in sweep}
    return ks[str(k)], _sklearn_knn(tr, ytr, te, yte, k, cosine=True), ks


def main(n_train: int = 5000, n_test: int = 2000, full_logistic: bool = False) -> None:
    xtr, ytr, xte, yte, n_classes = photo_classes(n_train, n_test)
    header(f"3c probe: {n_train} / {n_test} crops of {n_classes} photographs, raw pixels")
    tr, te = raw_pixels(xtr), raw_pixels(xte)
    start = time.perf_counter()
    found = nearest_sets(tr, te, (1, 3, 5, 10, 20), cosine_ks=(3,))
    search = time.perf_counter() - start
    start = time.perf_counter()
    new = compare({"raw pixels": (tr, te)}, ytr, yte, k=3)
    fast = time.perf_counter() - start
    row = new.table[0]
    start = time.perf_counter()
    exam, cos, ks = old_searches(tr, ytr, te, yte)
    slow = time.perf_counter() - start
    same = row.knn == exam and row.cosine_knn == cos and new.sweep["raw pixels"] == ks
    pairs = sum(found.settled.values())
    print(
        f"neighbour searches: convlens {search:5.1f} s   a KNeighborsClassifier per k and cosine "
        f"{slow:5.1f} s   ratio x{slow / search:4.2f}   k-NN identical: {same}"
    )
    print(
        "  (row, k) pairs settled by "
        + ", ".join(f"{stage} {n / pairs:.1%}" for stage, n in found.settled.items())
    )
    print(
        f"all classifiers (k-NN, cosine, PCA-256 linear) {fast:5.1f} s; k-NN k=3 "
        f"{row.knn:.3f}, cosine {row.cosine_knn:.3f}, linear {row.linear:.3f}"
    )
    pca_iterations(tr)
    if full_logistic:
        start = time.perf_counter()
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
        lin = float((clf.fit(tr, ytr).predict(te) == yte).mean())
        print(f"logistic regression on all pixels {time.perf_counter() - start:.1f} s: {lin:.3f}")


def pca_iterations(tr) -> None:
    from sklearn.decomposition import PCA

    from convlens.probe.knn import LINEAR_PCA, LINEAR_PCA_POWER

    kept = {}
    for power in (7, LINEAR_PCA_POWER):
        start = time.perf_counter()
        pca = PCA(LINEAR_PCA, iterated_power=power, random_state=0).fit(tr)
        kept[power] = (time.perf_counter() - start, pca.explained_variance_ratio_.sum())
    (t7, v7), (tp, vp) = kept[7], kept[LINEAR_PCA_POWER]
    print(
        f"PCA-{LINEAR_PCA} on the training pixels: {LINEAR_PCA_POWER} power iterations "
        f"{tp:.1f} s, 7 (scikit-learn's default) {t7:.1f} s, ratio x{t7 / tp:.2f}; variance "
        f"explained {vp:.4f} against {v7:.4f} ({vp / v7:.1%})"
    )


def features(n_images: int = 2000) -> None:
    """Block features of an EdgeNet (random weights, non-default batch-norm statistics)."""
    from convlens.jigsaw.evaluation.inference import normalise
    from convlens.jigsaw.networks.configs import model_config
    from convlens.probe.blocks import block_ends, block_features
    from convlens.problem3.probe import random_network

    xtr = photo_classes(n_images, 0)[0]
    model = random_network(model_config(), 0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    header(f"block features: {n_images} crops of 96 x 96, EdgeNet (width 0.5)")

    @torch.no_grad()
    def hooked():  # the way before: hooks on the model itself, batches of 128, NCHW
        ends = [model.features[i] for i in block_ends(model)]
        caught, out = [], [[] for _ in ends]
        hooks = [m.register_forward_hook(lambda _m, _i, o: caught.append(o)) for m in ends]
        for start in range(0, len(xtr), 128):
            caught.clear()
            model.features(normalise(torch.as_tensor(xtr[start : start + 128])))
            for j, fmap in enumerate(caught):
                out[j].append(fmap.mean((2, 3)))
        for h in hooks:
            h.remove()
        return [torch.cat(o).numpy() for o in out]

    start = time.perf_counter()
    old = hooked()
    slow = time.perf_counter() - start
    start = time.perf_counter()
    new = list(block_features(model, xtr).values())
    fast = time.perf_counter() - start
    worst = max(float(abs(a - b).max() / abs(a).max()) for a, b in zip(old, new, strict=True))
    print(
        f"folded channels_last copy {fast:5.1f} s   hooks on the model {slow:5.1f} s   "
        f"ratio x{slow / fast:4.2f}   largest difference {worst:.1e} of the block's largest value"
    )


def whole_command(n_train: int, n_test: int) -> None:
    """`convlens probe RUN DataNormal.npz` end to end (features of every block of the trained
    and the random network, the validation choice, every classifier) on the same crops, with
    an EdgeNet trained for one epoch on 1,000 photo puzzles."""
    import json
    import tempfile
    from contextlib import redirect_stdout
    from io import StringIO
    from pathlib import Path

    from convlens.cli import main as cli
    from convlens.demo.jigsaw_data import make_jigsaw_arrays
    from convlens.demo.photos import bundled_photographs
    from convlens.jigsaw.training.recipes import recipe
    from convlens.jigsaw.training.train import train

    xtr, ytr, xte, yte, n_classes = photo_classes(n_train, n_test)
    header(f"convlens probe RUN DataNormal.npz: {n_train} / {n_test} crops, EdgeNet")
    with tempfile.TemporaryDirectory() as tmp:
        jig = make_jigsaw_arrays(bundled_photographs(), n_train=1000, n_test=100)
        cfg = recipe("edgenet", epochs=1)
        train(jig["a"], jig["b"], Path(tmp) / "run", cfg)
        npz = Path(tmp) / "DataNormal.npz"
        np.savez(npz, a=xtr, b=ytr, c=xte, d=yte)
        start = time.perf_counter()
        with redirect_stdout(StringIO()) as out:
            assert cli(["probe", str(Path(tmp) / "run"), str(npz), "--json"]) == 0
        took = time.perf_counter() - start
    table = json.loads(out.getvalue())["table"]
    print(f"whole command {took:6.1f} s (target 120 s)")
    for row in table:
        print(f"  {row['features']:24s} k-NN k=3 {row['knn3']:.3f}")


if __name__ == "__main__":
    import sys

    # e.g. `bench_probe_speed.py 2000 1000`; `make bench` runs the default sizes, the
    # features and the whole command
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")]
    parts = {"--command", "--features", "--classifiers"} & set(sys.argv)
    if not parts or "--classifiers" in parts:
        main(*sizes, full_logistic="--full-logistic" in sys.argv)
    if not parts or "--features" in parts:
        features()
    if not parts or "--command" in parts:
        whole_command(*(sizes or [5000, 2000]))
