"""Exam step 2c on VGG16 (random weights, 224 x 224, fp32): both variants (without and with
blur) of 3 classes as one batch of 6, against the two runs of 3 the step used to make, in the
same process. Steps are few; the time of the exam's 150 steps is extrapolated per step. Then
bf16 autocast + channels_last against fp32 on a trained model (the demo's digits classifier,
the report's demo settings, 150 steps): time, and how far each class's final probability and
score move; `auto` picks bf16 only where the hardware runs it natively."""

import sys
import time

import torch
from common import header

from convlens.data.transforms import normalized_bounds
from convlens.explain import class_model_visualisation
from convlens.models import vgg16
from convlens.problem2 import class_models


def main(steps: int = 6) -> None:
    header(f"2c class models on VGG16: 3 classes x 2 variants x {steps} steps, fp32")
    torch.manual_seed(0)
    model = vgg16().eval()
    names = [str(i) for i in range(1000)]
    kw = {"steps": steps, "l2": 1e-3, "blur_sigma": 1.0, "jitter": 4, "clamp": normalized_bounds()}
    classes = [1, 2, 3]
    start = time.perf_counter()
    class_models(model, classes, (3, 224, 224), names, **kw)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    class_model_visualisation(model, classes, (3, 224, 224), **kw)
    class_model_visualisation(model, classes, (3, 224, 224), blur_every=5, **kw)
    separate = time.perf_counter() - start
    print(
        f"one batch of 6: {batched:6.1f} s   two batches of 3: {separate:6.1f} s   "
        f"ratio x{separate / batched:4.2f}"
    )
    print(
        f"extrapolated to 150 steps: {batched / steps * 150:6.0f} s (one batch), "
        f"{separate / steps * 150:6.0f} s (two runs)"
    )


def bf16_against_fp32(steps: int = 150) -> None:
    from convlens.demo.digits import train_digits_classifier
    from convlens.problem2.setup import demo_class_viz
    from convlens.runtime import fast_bf16

    header(f"2c in bf16 against fp32 on the trained digits classifier, {steps} steps")
    model, _, _ = train_digits_classifier(seed=0)
    settings = demo_class_viz(steps)
    runs, seconds = {}, {}
    for name, precision, seed in (
        ("fp32", "fp32", 0),
        ("bf16", "bf16", 0),
        ("fp32 seed 1", "fp32", 1),
    ):
        start = time.perf_counter()
        runs[name] = class_models(
            model,
            [0, 4, 7],
            (1, 32, 32),
            [str(i) for i in range(10)],
            precision=precision,
            seed=seed,
            **settings,
        )
        seconds[name] = time.perf_counter() - start
    print(f"native bf16 here: {fast_bf16(torch.device('cpu'))}")
    print("(fp32 seed 1: only the jitter seed changed, for scale)")
    for a, b, c in zip(*(runs[n].classes for n in runs), strict=True):
        for variant in ("no_blur", "blur"):
            pa, pb = getattr(a, f"prob_{variant}"), getattr(b, f"prob_{variant}")
            sa, sb, sc = (getattr(r, f"score_{variant}") for r in (a, b, c))
            print(
                f"class {a.class_id} {variant:8s} prob fp32 {pa:.4f} bf16 {pb:.4f} "
                f"(|diff| {abs(pa - pb):.4f})  score fp32 {sa:6.2f} bf16 {sb:6.2f} "
                f"(rel. diff {abs(sa - sb) / abs(sa):.2f}; fp32 seed 1 {sc:6.2f}, "
                f"{abs(sa - sc) / abs(sa):.2f})"
            )
    t32, t16 = seconds["fp32"], seconds["bf16"]
    print(f"time fp32 {t32:.1f} s, bf16 {t16:.1f} s: bf16 x{t32 / t16:.2f} the speed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
    bf16_against_fp32()
