"""De-shuffling on an exam-format dataset built from real photographs: random 96x96 crops of
the skimage/scikit-learn/matplotlib photographs and of ../shared/data/problem2, split by source
photograph (no photograph in both train and test). Trains the default network, then prints
image- and quarter-level accuracy for every method, and the training time. With --vgg it also
trains the exam's VGG-11-BN with its recipe (convlens.jigsaw.recipes; `--vgg-only` skips
EdgeNet) and test-time augmentation over the 24 re-shuffles, printing its
validation curve against training minutes: the exam's bar is 0.60 image-level within 30 CPU
minutes on 2 cores."""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from common import PROBLEM2, header

from convlens.demo.jigsaw_data import collect_photographs, make_jigsaw_arrays
from convlens.jigsaw.config import TrainConfig
from convlens.jigsaw.data import NpzData, Split
from convlens.jigsaw.recipes import recipe
from convlens.jigsaw.train import train
from convlens.jigsaw.workflow import evaluate_run


def run(arrays, cfg: TrainConfig, tta: bool) -> None:
    run_dir = Path(tempfile.mkdtemp(prefix="convlens-jigsaw-"))
    try:
        start = time.perf_counter()
        result = train(arrays["a"], arrays["b"], run_dir / "run", cfg, progress=False)
        seconds = time.perf_counter() - start
        n = len(arrays["a"])
        known = np.ones(n, bool)
        data = NpzData(
            Split(arrays["a"], arrays["b"], known),
            Split(arrays["c"], arrays["d"], np.ones(len(arrays["c"]), bool)),
            "photographs",
            "uint8",
        )
        ev = evaluate_run(run_dir / "run", data, tta=tta)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    print(
        f"{cfg.model.arch} (width {cfg.model.width}): {cfg.epochs} epochs on {n} images in "
        f"{seconds / 60:.1f} min ({seconds / cfg.epochs:.0f} s/epoch); best validation "
        f"image-level {result['best_val_accuracy']:.3f}"
    )
    minutes = np.cumsum([h["seconds"] for h in result["history"]]) / 60
    curve = ", ".join(
        f"{m:.1f} min {h['val_accuracy']:.3f}"
        for m, h in zip(minutes, result["history"], strict=True)
    )
    print(f"validation image-level accuracy by epoch: {curve}")
    print(
        f"{'method':18s} {'image-level':>12s} {'quarter-level':>14s}  (test: {ev['n_test']} images)"
    )
    for method, acc in ev["methods"].items():
        print(f"{method:18s} {acc['image_accuracy']:12.3f} {acc['quarter_accuracy']:14.3f}")
    chance = 1 / 24
    print(f"chance: image-level {chance:.3f}, quarter-level 0.250; the exam's bar: 0.60")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--train", type=int, default=5000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    p.add_argument("--vgg", action="store_true", help="also train VGG-11-BN (slow)")
    p.add_argument("--vgg-only", action="store_true", help="train VGG-11-BN only")
    p.add_argument("--vgg-epochs", type=int, default=recipe("vgg11_bn").epochs)
    p.add_argument("--no-tta", action="store_true")
    args = p.parse_args()
    photos = collect_photographs([PROBLEM2 / "validation_images", PROBLEM2 / "test_images"])
    arrays = make_jigsaw_arrays(photos, n_train=args.train, n_test=args.test, seed=0)
    header(f"jigsaw: {len(photos)} photographs, {args.train} train / {args.test} test crops")
    if not args.vgg_only:
        run(arrays, TrainConfig(epochs=args.epochs), tta=not args.no_tta)
    if args.vgg or args.vgg_only:
        run(arrays, recipe("vgg11_bn", epochs=args.vgg_epochs), tta=not args.no_tta)


if __name__ == "__main__":
    main()
