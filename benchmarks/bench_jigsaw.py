"""De-shuffling on an exam-format dataset built from real photographs: random 96x96 crops of
the skimage/scikit-learn/matplotlib photographs and of ../shared/data/problem2, split by source
photograph (no photograph in both train and test; validation holds out whole photographs of the
training side too, so the best epoch is chosen on photographs never trained on).

For each network asked for (`--arch`, default all three with their recipes), prints the CPU
kind and precision, the per-epoch curve (training and validation image-level accuracy side by
side, so the gap to unseen photographs is visible, against minutes), the epochs, the minutes and
why training stopped, then image- and quarter-level test accuracy of every method: the network
alone (single view), with test-time augmentation, and the fusions with the seam score.

    python bench_jigsaw.py --arch vgg11_bn                    # the recipe
    python bench_jigsaw.py --arch vgg11_bn --set head=orders  # one change, measured
    python bench_jigsaw.py --arch vgg11_bn --set minutes=30 --set epochs=400
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
from convlens.jigsaw.networks.configs import with_settings
from convlens.jigsaw.puzzle.data import NpzData, Split
from convlens.jigsaw.training.recipes import NETWORKS, recipe
from convlens.jigsaw.training.train import train
from convlens.problem3.deshuffle import evaluate_run
from convlens.runtime import Runtime, resolve_precision

RUNTIME = Runtime.of("auto")  # a GPU where there is one


def _override(cfg, settings: list[str]):
    """key=value pairs onto the recipe (a ModelConfig field goes to cfg.model)."""
    model_fields = {f.name: f.type for f in dataclasses.fields(cfg.model)}
    top, model = {}, {}
    for item in settings:
        key, value = item.split("=", 1)
        current = getattr(cfg.model, key) if key in model_fields else getattr(cfg, key)
        if isinstance(current, bool):
            parsed = value.lower() in ("1", "true", "yes", "on")
        else:
            parsed = type(current)(value)
        (model if key in model_fields else top)[key] = parsed
    return dataclasses.replace(cfg, model=with_settings(cfg.model, **model), **top)


def run(arrays, cfg, tta: bool) -> None:
    run_dir = Path(tempfile.mkdtemp(prefix="convlens-jigsaw-"))
    n = len(arrays["a"])
    precision = resolve_precision(RUNTIME.device, cfg.precision)
    m = cfg.model
    print(
        f"\n### {m.arch} (head {getattr(m, 'head', 'seams')}, width {m.width}, resolution "
        f"{getattr(m, 'resolution', 0) or m.input_size}): {n} training puzzles, {precision} on "
        f"{cpu_kind()}, at most {cfg.epochs} epochs"
        + (f" within {cfg.minutes:g} min" if cfg.minutes else ""),
        flush=True,
    )
    try:
        start = time.perf_counter()
        result = train(
            arrays["a"],
            arrays["b"],
            run_dir / "run",
            cfg,
            groups=arrays["source_train"],
            runtime=RUNTIME,
        )
        seconds = time.perf_counter() - start
        data = NpzData(
            Split(arrays["a"], arrays["b"], np.ones(n, bool), arrays["source_train"]),
            Split(arrays["c"], arrays["d"], np.ones(len(arrays["c"]), bool)),
            "photographs",
            "uint8",
        )
        ev = evaluate_run(run_dir / "run", data, tta=tta, runtime=RUNTIME)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    history = result.history
    minutes = np.cumsum([h.seconds for h in history]) / 60
    print("epoch  minutes  train acc  val acc (held-out photographs)")
    for m, h in zip(minutes, history, strict=True):
        print(f"{h.epoch:5d}  {m:7.1f}  {h.train_accuracy:9.3f}  {h.val_accuracy:7.3f}")
    print(
        f"{len(history)} epochs ({result.planned_epochs} planned) in {seconds / 60:.1f} min, "
        f"stopped at: {result.stopped}; best validation image-level {result.best_val_accuracy:.3f}"
    )
    print(
        f"{'method':18s} {'image-level':>12s} {'quarter-level':>14s}  (test: {ev.n_test} "
        "puzzles from unseen photographs)"
    )
    for method, acc in ev.methods.items():
        print(f"{method:18s} {acc.image_accuracy:12.3f} {acc.quarter_accuracy:14.3f}")
    print("chance: image-level 0.042, quarter-level 0.250; the exam's bar: 0.60", flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--train", type=int, default=5000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--arch", action="append", choices=NETWORKS, help="default: all three")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--no-tta", action="store_true")
    args = p.parse_args()
    photos = collect_photographs([PROBLEM2 / "validation_images", PROBLEM2 / "test_images"])
    arrays = make_jigsaw_arrays(photos, n_train=args.train, n_test=args.test, seed=0)
    n_train_photos = len(set(arrays["source_train"]))
    header(
        f"jigsaw: {len(photos)} photographs ({n_train_photos} on the training side), "
        f"{args.train} train / {args.test} test crops"
    )
    for arch in args.arch or NETWORKS:
        run(arrays, _override(recipe(arch), args.set), tta=not args.no_tta)


if __name__ == "__main__":
    main()
