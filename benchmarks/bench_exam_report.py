"""The whole `convlens report` as a student runs it on the exam's data, with the defaults: VGG16
weights in the torch cache (random, in torchvision's file layout, in a temporary cache: the time
does not depend on them), the exam's problem2 folder, and a problem3 folder in the exam's format
built from photographs (DataShuffled: 5,000 / 1,000 puzzles, train and test from different
photographs; DataNormal: 5,000 / 2,000 labelled crops of other photographs, one class each).

Prints the plan's estimate beside each part's measured time and the totals (the baseline the
estimate is judged against), and each network alone (single view, on the unseen photographs)
against its bar.

    python bench_exam_report.py [--minutes M] [--keep DIR] [--quick]

`--quick` runs the quick report (one epoch per network, fixed sizes: the same numbers for the
same code and seed on any run), which `same_results.py` compares before and after a change.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import PROBLEM2, cpu_kind, header, print_networks

from convlens.demo.jigsaw_data import collect_photographs, make_jigsaw_arrays
from convlens.demo.photo_probe import make_photo_probe, split_photographs
from convlens.models import vgg16
from convlens.models.weights import checkpoint_dir
from convlens.report.build import ReportContext, build_report


def exam_problem3(folder: Path, seed: int = 0) -> None:
    photos = collect_photographs([PROBLEM2 / "validation_images", PROBLEM2 / "test_images"])
    probe_photos, puzzle_photos = split_photographs(photos, seed=seed)
    puzzles = make_jigsaw_arrays(puzzle_photos, n_train=5000, n_test=1000, seed=seed)
    n = len(probe_photos)
    probe = make_photo_probe(probe_photos, n_train=5000 // n, n_test=2000 // n, seed=seed)
    folder.mkdir(parents=True)
    np.savez(folder / "DataShuffled.npz", **{k: puzzles[k] for k in "abcd"})
    np.savez(folder / "DataNormal.npz", **{k: probe[k] for k in "abcd"})
    print(
        f"problem3: {len(puzzle_photos)} puzzle photographs, {n} probe photographs "
        f"({len(probe['a'])} / {len(probe['c'])} labelled crops)"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--keep", type=Path, default=None, help="write the report here")
    p.add_argument("--quick", action="store_true", help="the quick report (fixed epochs)")
    args = p.parse_args()
    header(f"the exam report with defaults on {cpu_kind()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["TORCH_HOME"] = str(tmp / "torch")
        path = checkpoint_dir() / "vgg16-397923af.pth"
        path.parent.mkdir(parents=True)
        torch.manual_seed(0)  # the same random weights at every run
        torch.save(vgg16().state_dict(), path)
        exam_problem3(tmp / "problem3")
        out = args.keep or tmp / "report"
        ctx = ReportContext(
            out=out,
            problem2=PROBLEM2,
            problem3=tmp / "problem3",
            minutes=args.minutes,
            quick=args.quick,
        )
        start = time.perf_counter()
        results = build_report(ctx).results
        total = time.perf_counter() - start
    estimated = results.estimated_seconds or {}
    measured = {f"problem2: {k}": v for k, v in results.problem2.seconds.items()}
    measured |= {f"problem3: {k}": v for k, v in results.problem3.seconds.items()}
    print(f"{'part':45s} {'estimate':>9s} {'measured':>9s}")
    for part in list(measured) + [s for s in estimated if s not in measured]:
        e, m = estimated.get(part), measured.get(part)
        print(f"{part:45s} {e or 0:9.1f} {m or 0:9.1f}")
    planned = sum(estimated.values())
    if planned:
        print(
            f"whole report: {total / 60:.1f} min measured, {planned / 60:.1f} min estimated "
            f"before it started (measured / estimated x{total / planned:.2f})"
        )
    else:  # the quick report plans nothing
        print(f"whole report: {total / 60:.1f} min measured (no estimate: the quick report)")
    print_networks(results)


if __name__ == "__main__":
    main()
