"""How long Problem 2 will take on this machine, said before it starts: one forward pass and one
forward-and-backward pass of the section's own network are timed, and each step's passes are
counted from its settings. The report prints the sum with its plan and sets it beside the
measured seconds in its appendix."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from convlens.engine.layout import as_layout, placed
from convlens.explain.attributions import method_passes
from convlens.explain.model_state import preserved
from convlens.explain.quality import EXAM_METHODS
from convlens.problem2.setup import Sizes
from convlens.runtime import autocast


def pass_seconds(
    model: nn.Module,
    shape: tuple[int, ...],
    batch: int = 1,
    precision: str = "fp32",
    repeats: int = 2,
) -> tuple[float, float]:
    """Seconds per image of a forward pass and of a forward pass with a backward pass to the
    input, on batches of `batch` images of `shape`, in `precision` (with the layout the steps
    use for it), the median of `repeats` after a warm-up. A small network needs batches like
    the steps' own: one image at a time it measures per-call overhead, not arithmetic. The
    model is left as it was."""
    cpu = torch.device("cpu")
    with preserved(model), placed(model, cpu, precision) as (net, last):
        x = as_layout(torch.zeros(batch, *shape), last)

        def forward():
            with torch.no_grad(), autocast(cpu, precision):
                net(x)

        def both():
            xi = x.clone().requires_grad_(True)
            with autocast(cpu, precision):
                out = net(xi).float()
            out.max(1).values.sum().backward()

        return _median(forward, repeats) / batch, _median(both, repeats) / batch


def _median(fn, repeats: int) -> float:
    fn()  # warm-up: oneDNN builds its kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def deletion_frames(steps: int, maps: int = 3) -> int:
    """Frames per image that deletion/insertion sends through the network: the maps (the
    exam's two, saliency and guided backprop, and the random floor, or more methods) times two
    curves times the steps between the ends, and the three frames every map shares (the
    original, all removed, all blurred)."""
    return maps * 2 * max(steps - 1, 0) + 3


def maps_seconds(
    methods, settings: dict, side: int, forward: float, backward: float
) -> tuple[float, float]:
    """(seconds for one image's maps of the exam's two, of the other `methods`): saliency and
    guided backprop share a forward pass (one forward, two backward); the others' passes are
    counted by convlens.explain.attributions.method_passes."""
    exam = 2 * backward - forward if "saliency" in methods else 0.0
    others = 0.0
    for name in methods:
        if name not in EXAM_METHODS:
            f, b = method_passes(name, settings.get(name, {}), side)
            others += f * forward + b * backward
    return exam, others


def problem2_seconds(
    forward: float,
    backward: float,
    *,
    n_validation: int,
    n_test: int,
    n_checked: int,
    deletion_steps: int,
    randomised_layers: int,
    class_viz_images: int,
    class_viz_steps: int,
    class_viz_backward: float | None = None,
    methods=EXAM_METHODS,
    method_settings: dict | None = None,
    side: int = 224,
) -> dict[str, float]:
    """Seconds per step from the pass times (`forward`, `backward`: forward and backward) and
    the passes each step makes: 2b one forward per validation image, 2d one per test image,
    2e/2f one forward and two backward passes per test image, the other `methods` their passes
    (maps_seconds), the explanation checks a forward per deletion/insertion frame
    (`deletion_frames`) and every method's maps per randomised layer, 2c a forward and backward
    per image and step (`class_viz_backward` where 2c runs in another precision)."""
    frames = deletion_frames(deletion_steps, len(methods) + 1)
    exam, others = maps_seconds(methods, method_settings or {}, side, forward, backward)
    seconds = {
        "2b_accuracy_and_calibration": n_validation * forward,
        "2d_top5": n_test * forward,
        "2ef_maps": n_test * (backward + (backward - forward)),
        "explanation_checks": n_checked * (frames * forward + randomised_layers * (exam + others)),
        "2c_class_models": class_viz_images * class_viz_steps * (class_viz_backward or backward),
    }
    if others:
        seconds["2ef_other_methods"] = n_test * others
    return seconds


def demo_estimate(size: Sizes) -> dict[str, float]:
    """The demo's steps on the digits classifier (untrained here; the time does not depend on
    the weights), its training included, with the settings of convlens.problem2.setup."""
    from convlens.demo.digits import MEAN, STD, digits_vgg, load_digits_data
    from convlens.problem2.methods import applicable_methods, method_settings

    data = load_digits_data(0)
    model = digits_vgg()
    shape = tuple(data.x_train.shape[1:])
    methods, _ = applicable_methods(model, shape)
    forward, backward = pass_seconds(model, shape, batch=64)
    n_train, n_test = len(data.x_train), len(data.x_test)
    weighted = sum(1 for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear))
    seconds = problem2_seconds(
        forward,
        backward,
        n_validation=0,
        n_test=5,
        n_checked=size.eval_images,
        deletion_steps=size.deletion_steps,
        randomised_layers=weighted,
        class_viz_images=2 * 3 + (2 * 10 if size.all_classes else 0),
        class_viz_steps=size.class_viz_steps,
        methods=methods,
        method_settings=method_settings(shape[-1], [-MEAN / STD], size.ig_steps),
        side=shape[-1],
    )
    # training: a forward and backward pass per image and epoch, and the update
    seconds["digits_classifier"] = size.classifier_epochs * n_train * backward
    seconds["calibration"] = n_test * forward
    return seconds
