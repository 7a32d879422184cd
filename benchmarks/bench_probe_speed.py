"""The 3c probe's classifiers on 5,000 training and 2,000 test images of 96 x 96 (crops of real
photographs, one class per photograph): the single neighbour search per feature set and the
PCA-reduced linear probe, against the way convlens used to do it (a KNeighborsClassifier fit
and search per k, again for cosine, and logistic regression on all 27,648 pixels), in the same
run. The accuracies must agree (k-NN exactly)."""

import time

import numpy as np
from common import PROBLEM2, header
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from convlens.demo.jigsaw_data import collect_photographs
from convlens.demo.photos import random_crops
from convlens.probe import compare, knn_accuracy, raw_pixels


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


def old_way(tr, ytr, te, yte, k=3, sweep=(1, 3, 5, 10, 20)):
    exam = knn_accuracy(tr, ytr, te, yte, k)["accuracy"]
    cos = knn_accuracy(tr, ytr, te, yte, k, cosine=True)["accuracy"]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    lin = float((clf.fit(tr, ytr).predict(te) == yte).mean())
    ks = {kk: knn_accuracy(tr, ytr, te, yte, kk)["accuracy"] for kk in sweep}
    return exam, cos, lin, ks


def main(n_train: int = 5000, n_test: int = 2000, old: bool = True) -> None:
    xtr, ytr, xte, yte, n_classes = photo_classes(n_train, n_test)
    header(f"3c probe: {n_train} / {n_test} crops of {n_classes} photographs, raw pixels")
    tr, te = raw_pixels(xtr), raw_pixels(xte)
    start = time.perf_counter()
    new = compare({"raw pixels": (tr, te)}, ytr, yte, k=3)
    fast = time.perf_counter() - start
    row = new["table"][0]
    if not old:
        print(f"convlens {fast:6.1f} s (the old way skipped: --convlens-only)")
        print(f"k-NN k=3 {row['knn3']:.3f}  cosine {row['cosine_knn3']:.3f}")
        return
    start = time.perf_counter()
    exam, cos, lin, ks = old_way(tr, ytr, te, yte)
    slow = time.perf_counter() - start
    same = row["knn3"] == exam and row["cosine_knn3"] == cos and new["sweep"]["raw pixels"] == ks
    print(
        f"convlens {fast:6.1f} s   old way {slow:6.1f} s   ratio x{slow / fast:4.1f}   "
        f"k-NN identical: {same}"
    )
    print(
        f"k-NN k=3 {row['knn3']:.3f}  cosine {row['cosine_knn3']:.3f}  linear "
        f"{row['linear']:.3f} ({row['linear_input']}) vs {lin:.3f} on all pixels"
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
    from convlens.jigsaw.recipes import recipe
    from convlens.jigsaw.train import train

    xtr, ytr, xte, yte, n_classes = photo_classes(n_train, n_test)
    header(f"convlens probe RUN DataNormal.npz: {n_train} / {n_test} crops, EdgeNet")
    with tempfile.TemporaryDirectory() as tmp:
        jig = make_jigsaw_arrays(bundled_photographs(), n_train=1000, n_test=100)
        cfg = recipe("edgenet", epochs=1)
        train(jig["a"], jig["b"], Path(tmp) / "run", cfg, progress=False)
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

    # e.g. `bench_probe_speed.py 2000 1000`; `--convlens-only` skips the old way (at 5,000 /
    # 2,000 its logistic regression on all pixels runs for more than 10 minutes); `--command`
    # times the whole `convlens probe` instead
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")]
    if "--command" in sys.argv:
        whole_command(*(sizes or [5000, 2000]))
    else:
        main(*sizes, old="--convlens-only" not in sys.argv)
