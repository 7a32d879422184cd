"""The report's whole Problem 2 section on VGG16, as `convlens report` runs it when the weights
are present: random VGG16 weights in torchvision's file layout in a temporary torch cache, the
exam's problem2 folder (or the bundled photographs without it). Prints the seconds of every
step, the total, and for the steps this release rewired (2d/2h sharing the test images' pass,
2e/2f from one forward pass, the explanation checks reusing 2e/2f's maps with batched,
de-duplicated deletion/insertion frames and the randomisation check sharing a pass per layer)
the previous way measured in the same run, plus the class-visualisation floor implied by
this CPU's matrix-multiply speed.

    python bench_problem2_section.py [--quick] [--no-baseline]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import PROBLEM2, header

from convlens.explain import guided_backprop, saliency
from convlens.explain.deletion import deletion_insertion
from convlens.explain.gradient_pair import saliency_and_guided
from convlens.explain.randomisation import randomisation_check
from convlens.models import vgg16
from convlens.models.weights import checkpoint_dir, load_weights
from convlens.problem2 import top5
from convlens.problem2.setup import imagenet_setup, sizes
from convlens.report import problem2
from convlens.report.build import ReportContext
from convlens.uncertainty import mc_dropout


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def previous_way(setup, targets, quality: dict) -> dict[str, float]:
    """The changed steps as the previous release ran them, with today's public functions."""
    m, x = setup.model, setup.images
    seconds = {}
    _, seconds["2d + 2h: the test images' forward passes"] = timed(
        lambda: (
            top5(m, x, setup.files, setup.names),
            mc_dropout(m, x, samples=setup.samples),
        )
    )
    _, seconds["2e + 2f: the maps"] = timed(
        lambda: (saliency(m, x, targets), guided_backprop(m, x, targets))
    )

    def checks():
        maps = {
            "saliency": saliency(m, x, targets),
            "guided backprop": guided_backprop(m, x, targets),
            "random map": torch.rand(x.shape[0], *x.shape[-2:]),
        }
        for one in maps.values():  # one map, one image at a time, as before
            for i in range(x.shape[0]):
                deletion_insertion(
                    m, x[i : i + 1], one[i : i + 1], targets[i], steps=quality["steps"]
                )
        randomisation_check(
            m,
            x,
            targets,
            {"saliency": saliency, "guided_backprop": guided_backprop},
            max_layers=quality["max_layers"],
        )

    _, seconds["explanation checks"] = timed(checks)
    return seconds


def this_way(setup, targets) -> dict[str, float]:
    m, x = setup.model, setup.images
    seconds = {}

    def shared():
        mc = mc_dropout(m, x, samples=setup.samples)
        top5(m, x, setup.files, setup.names, probs=mc.deterministic)

    _, seconds["2d + 2h: the test images' forward passes"] = timed(shared)
    _, seconds["2e + 2f: the maps"] = timed(lambda: saliency_and_guided(m, x, targets))
    return seconds


def class_viz_floor(model, steps: int, images: int) -> tuple[float, float]:
    """(GFLOP/s of a 2048^3 matrix product here, seconds that the class-visualisation steps'
    multiply-adds need at that rate): each image-step is one forward pass and one pass back
    to the input, each as many multiply-adds as the forward pass."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    _, dt = timed(lambda: [a @ b for _ in range(4)])
    rate = 4 * 2 * 2048**3 / dt / 1e9
    macs = 0

    def count(module, inputs, output):
        nonlocal macs
        w = module.weight
        per_output = w[0].numel()
        macs += output.numel() * per_output

    hooks = [
        mod.register_forward_hook(count)
        for mod in model.modules()
        if isinstance(mod, torch.nn.Conv2d | torch.nn.Linear)
    ]
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    flops = 2 * macs * 2 * steps * images
    return rate, flops / rate / 1e9


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the report's --quick settings")
    ap.add_argument("--no-baseline", action="store_true", help="skip the previous way")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "exam"
    header(f"Problem 2 section on VGG16 (random weights), {mode} settings, fp32")
    folder = PROBLEM2 if (PROBLEM2 / "val.txt").exists() else None
    print(f"problem2 folder: {folder or 'not found: the bundled photographs'}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TORCH_HOME"] = tmp
        os.environ["CONVLENS_OFFLINE"] = "1"
        torch.manual_seed(0)
        path = checkpoint_dir() / "vgg16-397923af.pth"
        path.parent.mkdir(parents=True)
        torch.save(vgg16().state_dict(), path)
        ctx = ReportContext(out=Path(tmp) / "report", problem2=folder, quick=args.quick)
        ctx.figures.mkdir(parents=True)
        loaded = problem2.SECTION.check(ctx)
        plan = problem2.SECTION.estimate(loaded, "bench")
        r, total = timed(lambda: problem2.SECTION.compute(loaded, plan))
        print(f"\n{'step':32s} seconds")
        for name, s in r.seconds.items():
            print(f"{name:32s} {s:7.1f}")
        print(f"{'whole section':32s} {total:7.1f}   (target 300)")
        setup = imagenet_setup(
            load_weights(vgg16(init_weights=False), path),
            loaded.problem2,
            0,
            sizes("imagenet", args.quick),
        )
        cv = setup.class_viz["steps"]
        rate, floor = class_viz_floor(setup.model, cv, 2 * len(setup.classes))
        print(
            f"\n2c floor: {2 * len(setup.classes)} images x {cv} steps need {floor:.0f} s at "
            f"this CPU's {rate:.0f} GFLOP/s matrix-multiply rate (measured "
            f"{r.seconds['2c_class_models']:.0f} s)"
        )
        if args.no_baseline:
            return
        targets = torch.tensor([row.top[0].class_id for row in r.top5])
        before = previous_way(setup, targets, setup.quality)
        now = this_way(setup, targets)
        now["explanation checks"] = r.seconds["explanation_checks"]
        print(f"\n{'changed step':42s} previous    now   ratio")
        for name, old in before.items():
            print(f"{name:42s} {old:8.1f} {now[name]:6.1f}   x{old / now[name]:4.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
