"""The report's explanation checks (deletion/insertion and cascading randomisation, not asked by
the exam) on VGG16 (random weights: the time does not depend on them) and the exam's five test
images: today's settings (6 steps, the top 4 layers, forward passes in channels_last) against
the previous release's (10 steps) in the same run (the first release's, 24 steps and the top 8
layers in the contiguous layout, took x2.97 the previous release's: docs/benchmarks.md), and on
the trained digits classifier how far the areas move with the
steps (the conclusions: which map beats the random floor).

    python bench_explanation_checks.py [--no-baseline]
"""

import argparse
import time

import torch
from common import PROBLEM2, cpu_kind, header

from convlens.data.problem2 import load_problem2
from convlens.demo.digits import train_digits_classifier
from convlens.explain.gradient_pair import saliency_and_guided
from convlens.explain.quality import explanation_quality
from convlens.models import vgg16
from convlens.problem2.setup import imagenet_setup, sizes

PREVIOUS = {"steps": 10, "max_layers": 4}  # the previous release's


def timed_checks(model, x, targets, maps, quality: dict) -> float:
    start = time.perf_counter()
    explanation_quality(model, x, targets, maps=maps, seed=0, **quality)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--no-baseline", action="store_true")
    args = p.parse_args()
    header(f"explanation checks on VGG16, the exam's test images; {cpu_kind()}")
    model = vgg16().eval()
    setup = imagenet_setup(
        model,
        load_problem2(PROBLEM2) if PROBLEM2.is_dir() else None,
        0,
        sizes("imagenet", quick=False),
    )
    x = setup.images
    with torch.no_grad():
        targets = model(x).argmax(1)
    pair = saliency_and_guided(model, x, targets)
    maps = {"saliency": pair.saliency, "guided backprop": pair.guided_backprop}
    now = timed_checks(model, x, targets, maps, setup.quality)
    print(f"today {setup.quality}: {now:.1f} s for {len(x)} images")
    if not args.no_baseline:
        before = timed_checks(model, x, targets, maps, PREVIOUS)
        print(f"previous {PREVIOUS}: {before:.1f} s  (x{before / now:.2f})")

    digits, data, _ = train_digits_classifier(seed=0, epochs=20)
    xd = data.x_test[:48]
    with torch.no_grad():
        td = digits(xd).argmax(1)
    print("\ndigits classifier, 48 test digits: mean areas (deletion lower is better, insertion")
    print("higher) at each number of steps, and the largest change against 24 steps")
    areas = {}
    for steps in (24, 12, 10, 8, 6):
        q = explanation_quality(digits, xd, td, steps=steps, seed=0)
        areas[steps] = {c.method: (c.deletion_auc, c.insertion_auc) for c in q.checks}
        change = max(
            abs(a - b)
            for m, (d, i) in areas[steps].items()
            for a, b in ((d, areas[24][m][0]), (i, areas[24][m][1]))
        )
        listed = ", ".join(f"{m} {d:.3f}/{i:.3f}" for m, (d, i) in areas[steps].items())
        print(f"{steps:3d} steps: {listed}; largest change {change:.3f}")


if __name__ == "__main__":
    main()
