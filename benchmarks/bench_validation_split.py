"""Does validation say what the network does on photographs it never saw? The exam's files do
not say which photograph each puzzle was cut from, so a random validation split puts crops of
one photograph on both sides. On exam-format data whose photographs we do know (5,000 training
puzzles from 72 photographs, 1,000 test puzzles from others), the same recipe is trained with
three validation splits: random rows, look-alike groups (convlens.jigsaw.puzzle.look_alike: colour
histograms, k-means, whole groups held out) and, as the reference no exam user has, whole
photographs. After every epoch both validation and test accuracy of the network alone are
recorded; printed: how much of each validation photograph's crops the training side also holds,
the gap between the best epoch's validation and its test accuracy, the mean gap over epochs and
the test accuracy of the checkpoint each split chose.

    python bench_validation_split.py [--arch vgg11_bn] [--epochs 16]
"""

import argparse
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from common import PROBLEM2, cpu_kind, header

from convlens.demo.jigsaw_data import collect_photographs, make_jigsaw_arrays
from convlens.demo.photo_probe import split_photographs
from convlens.jigsaw.evaluation.inference import predict_log_probs
from convlens.jigsaw.puzzle.data import NpzData, Split
from convlens.jigsaw.puzzle.permutations import orders_to_classes
from convlens.jigsaw.puzzle.splits import validation_split
from convlens.jigsaw.training.recipes import recipe
from convlens.jigsaw.training.train import train
from convlens.problem3.deshuffle import evaluate_run
from convlens.runtime import Runtime, resolve_precision


def photo_share(source: np.ndarray, fit: np.ndarray, val: np.ndarray) -> float:
    """Per validation image, the share of its photograph's crops on the training side (mean)."""
    in_fit = np.zeros(len(source), bool)
    in_fit[fit] = True
    share = {s: in_fit[source == s].mean() for s in np.unique(source[val])}
    return float(np.mean([share[s] for s in source[val]]))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="vgg11_bn")
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    photos = collect_photographs([PROBLEM2 / "validation_images", PROBLEM2 / "test_images"])
    _, puzzle_photos = split_photographs(photos, seed=args.seed)
    arrays = make_jigsaw_arrays(puzzle_photos, n_train=5000, n_test=1000, seed=args.seed)
    source = np.asarray(arrays["source_train"])
    test_x, test_y = arrays["c"], orders_to_classes(arrays["d"])
    base = recipe(args.arch, epochs=args.epochs, seed=args.seed)
    runtime = Runtime.of("auto")  # a GPU where there is one
    precision = resolve_precision(runtime.device, base.precision)
    header(f"validation against test, {args.arch}, {precision} on {cpu_kind()}")
    print(f"{len(puzzle_photos)} puzzle photographs: 5000 training / 1000 test puzzles")

    def test_accuracy(model) -> dict:
        lp = predict_log_probs(model, test_x, runtime=runtime.but(precision=base.precision))
        return {"probe_knn": float((lp.argmax(1).numpy() == test_y).mean())}

    rows = []
    for how in ("random", "look-alike", "photographs"):
        cfg = base if how == "photographs" else dataclasses.replace(base, val_split=how)
        groups = source if how == "photographs" else None
        start = time.perf_counter()
        fit, val = validation_split(arrays["orig_train"], cfg.val_fraction, cfg.seed, how, groups)
        split_seconds = time.perf_counter() - start
        share = photo_share(source, fit, val)
        run_dir = Path(tempfile.mkdtemp(prefix="convlens-split-"))
        try:
            result = train(
                arrays["a"],
                arrays["b"],
                run_dir / "run",
                cfg,
                groups=groups,
                epoch_probe=test_accuracy,  # after every epoch: the test set, never to choose
                runtime=runtime,
            )
            data = NpzData(
                Split(arrays["a"], arrays["b"], np.ones(len(source), bool), groups),
                Split(test_x, arrays["d"], np.ones(len(test_x), bool)),
                "photographs",
                "uint8",
            )
            ev = evaluate_run(run_dir / "run", data, tta=False, runtime=runtime)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        val_acc = np.array([h.val_accuracy for h in result.history])
        test_acc = np.array([h.probe_knn for h in result.history])
        best = ev.best_epoch - 1
        rows.append((how, len(val), share, val_acc, test_acc, best, ev, split_seconds))
        print(f"\n{how}: {len(val)} validation images, {split_seconds:.1f} s to split")
        print("epoch  validation  test (network alone)")
        for i, (v, t) in enumerate(zip(val_acc, test_acc, strict=True)):
            print(f"{i + 1:5d}  {v:10.3f}  {t:6.3f}")
    print(
        f"\n{'split':12s} {'val imgs':>8s} {'photo on fit side':>17s} {'best val':>8s} "
        f"{'its test':>8s} {'gap':>7s} {'mean gap':>8s} {'corr':>5s} {'chosen test':>11s}"
    )
    for how, n_val, share, v, t, best, ev, _ in rows:
        corr = float(np.corrcoef(v, t)[0, 1]) if len(v) > 2 else float("nan")
        print(
            f"{how:12s} {n_val:8d} {share:17.3f} {v[best]:8.3f} {t[best]:8.3f} "
            f"{v[best] - t[best]:+7.3f} {float(np.mean(v - t)):+8.3f} {corr:5.2f} "
            f"{ev.network.image_accuracy:11.3f}"
        )


if __name__ == "__main__":
    main()
