"""Exam step 2c on VGG16 (random weights, 224 x 224, fp32): both variants (without and with
blur) of 3 classes as one batch of 6, against the two runs of 3 the step used to make, in the
same process. Steps are few; the time of the exam's 150 steps is extrapolated per step."""

import sys
import time

import torch
from common import header

from convlens.data import denormalize
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
    class_models(model, classes, (3, 224, 224), names, denormalize, **kw)
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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
