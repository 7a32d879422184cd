"""The context-free network's defences against shortcuts, each switched off in turn: gap crops,
per-tile normalisation and grey tiles. Same puzzles (photographs), same epochs; prints each
variant's de-shuffling accuracy and its in-domain probe (photographs not used for puzzles, one
class each) against its random twin. A defence that matters lowers the de-shuffling accuracy
when on (the shortcut is gone) and should not lower the probe."""

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import PROBLEM2, header

from convlens.demo.photo_probe import photo_study_data
from convlens.jigsaw.training.recipes import recipe
from convlens.problem3 import run_study


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--puzzles", type=int, default=2000)
    args = p.parse_args()
    folders = [PROBLEM2 / "validation_images", PROBLEM2 / "test_images"]
    shuffled, normal = photo_study_data(folders, args.puzzles, 400, 30, 10)
    base = recipe("cfn", epochs=args.epochs)
    # every defence on, whatever the recipe keeps (it keeps only the gap)
    base = replace(base, model=replace(base.model, gap=4, tile_norm=True, tile_gray=0.3))
    variants = {
        "all defences": base.model,
        "no gap": replace(base.model, gap=0),
        "no tile norm": replace(base.model, tile_norm=False),
        "no grey tiles": replace(base.model, tile_gray=0.0),
    }
    configs = {name.replace(" ", "-"): replace(base, model=m) for name, m in variants.items()}
    header(f"CFN defences: {args.puzzles} puzzles, {args.epochs} epochs each")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        study = run_study(shuffled, normal, Path(tmp), configs, tta=False)
    print(
        f"{'variant':16s} {'image-level':>11s} {'probe k-NN':>10s} {'random twin':>11s} {'min':>5s}"
    )
    for name, n in study.networks.items():
        print(
            f"{name:16s} {n.alone:11.3f} {n.probe.trained.knn:10.3f} "
            f"{n.probe.random.knn:11.3f} {n.training_minutes:5.1f}"
        )
    print(f"total {(time.perf_counter() - start) / 60:.1f} min; chance image-level 0.042")


if __name__ == "__main__":
    main()
