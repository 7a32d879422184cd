"""Problem 3c on in-domain probes, as in the exam (the probe's images look like the puzzles'):

* photographs: puzzles from some photographs; the probe has one class per *other* photograph
  (40 with ../shared/data/problem2), training and test crops from opposite halves;
* digits: puzzles made from scikit-learn's handwritten digits (training split), the probe on
  the same digits.

Each network is trained with its recipe (fewer epochs, see --epochs), then every block of it
and of its random twin, raw and standardised, is scored by k-NN (k = 3) on a validation split
of the probe's training images; the table shows the test accuracy of every candidate too, and
which one validation chose. `--labels-per-class N` keeps N labelled training images per class
(seeded), the label-scarce regime in which features, not the number of labels, decide."""

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
from common import PROBLEM2, header

from convlens.demo.normal_data import digit_study_data
from convlens.demo.photo_probe import photo_study_data
from convlens.jigsaw.training.recipes import NETWORKS, recipe
from convlens.probe.probe_records import Probe
from convlens.problem3 import run_study
from convlens.problem3.probe import probe_run
from convlens.problem3.study_records import Study


def report(name: str, study: Study, seconds: float) -> None:
    header(f"{name}: {seconds / 60:.1f} min")
    for arch, n in study.networks.items():
        print(
            f"\n{arch} ({n.settings}), {len(n.history)} epochs, {n.training_minutes} min,"
            f" de-shuffling image-level {n.alone:.3f}"
        )
        curve = ", ".join(f"{h.probe_knn:.3f}" for h in n.history)
        print(f"feature curve (best block, probe validation): {curve}; random {n.random_curve:.3f}")
        print_probe(n.probe)


def print_probe(probe: Probe) -> None:
    """Every candidate's validation and test k-NN, the choice, and trained minus random."""
    print(f"{'features':22s} {'block':7s} {'std':>4s} {'val k-NN':>9s} {'test k-NN':>10s}")
    for row in probe.layers:
        mark = "  <- chosen" if row.chosen else ""
        std = "yes" if row.standardised else "no"
        print(
            f"{row.network:22s} {row.block:7s} {std:>4s}"
            f" {row.val_knn:9.3f} {row.test_knn:10.3f}{mark}"
        )
    gain = probe.trained.knn - probe.random.knn
    print(f"chosen trained vs random twin on test: {gain:+.3f}")
    for twin, d in (probe.differences or {}).items():
        verdict = "larger than its noise" if d.real else "within its noise"
        print(
            f"  against the {twin}: {d.difference:+.3f}, 95 % paired bootstrap "
            f"[{d.low:+.3f}, {d.high:+.3f}], {verdict}"
        )


def few_labels(probe, per_class: int, seed: int = 0):
    """The probe with `per_class` training images of each class, drawn at random (seeded)."""
    train = probe.train
    rng = np.random.default_rng(seed)
    rows = np.sort(
        np.concatenate(
            [
                rng.permutation(np.flatnonzero(train.labels == c))[:per_class]
                for c in np.unique(train.labels)
            ]
        )
    )
    groups = None if train.groups is None else train.groups[rows]
    kept = dataclasses.replace(
        train, images=train.images[rows], labels=train.labels[rows], groups=groups
    )
    source = f"{probe.source}, {per_class} per class (draw {seed})"
    return dataclasses.replace(probe, train=kept, source=source)


def add_gains(gains: dict[str, list[float]], probes: dict[str, Probe]) -> None:
    for a, p in probes.items():
        gains[a].append(p.trained.knn - p.random.knn)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3, help="per network (the recipes use more)")
    p.add_argument("--archs", default=",".join(NETWORKS))
    p.add_argument("--domains", default="photos,digits")
    p.add_argument("--puzzles", type=int, default=2000)
    p.add_argument(
        "--labels-per-class",
        default="0",
        help="comma-separated; 0 is every labelled image. The networks train once per domain "
        "and every count probes the same weights",
    )
    p.add_argument(
        "--draws", type=int, default=1, help="seeded draws of the labelled images per count"
    )
    args = p.parse_args()
    archs = args.archs.split(",")
    counts = [int(c) for c in args.labels_per_class.split(",")]
    for domain in args.domains.split(","):
        if domain == "photos":
            folders = [PROBLEM2 / "validation_images", PROBLEM2 / "test_images"]
            puzzles, probe = photo_study_data(folders, args.puzzles, 400, 30, 10)
        else:
            puzzles, probe = digit_study_data()
        configs = {a: recipe(a, epochs=args.epochs) for a in archs}
        with tempfile.TemporaryDirectory() as tmp:
            study = None
            for count in counts:
                gains = {a: [] for a in archs}
                for draw in range(args.draws if count else 1):
                    labelled = few_labels(probe, count, seed=draw) if count else probe
                    start = time.perf_counter()
                    if study is None:  # the networks train (and de-shuffle) once per domain
                        study = run_study(
                            puzzles,
                            labelled,
                            Path(tmp),
                            configs,
                            tta=False,
                            step=lambda s: print(s, flush=True),
                        )
                        report(f"{domain}: {labelled.source}", study, time.perf_counter() - start)
                        probes = {a: n.probe for a, n in study.networks.items()}
                    else:  # the same best weights probed again, as run_study probes them
                        probes = {
                            a: probe_run(Path(tmp) / a, labelled, raw=a == archs[0]) for a in archs
                        }
                        if draw == 0:
                            minutes = (time.perf_counter() - start) / 60
                            header(f"{domain}: {labelled.source}: {minutes:.1f} min, probing only")
                            for a, p in probes.items():
                                print(f"\n{a}")
                                print_probe(p)
                    add_gains(gains, probes)
                if count and args.draws > 1:
                    header(
                        f"{domain}, {count} per class: trained minus random over {args.draws} draws"
                    )
                    for a, g in gains.items():
                        listed = ", ".join(f"{x:+.3f}" for x in g)
                        print(
                            f"{a:9s} mean {np.mean(g):+.3f} (min {min(g):+.3f}, "
                            f"max {max(g):+.3f}): {listed}"
                        )


if __name__ == "__main__":
    main()
