"""What differs between Problem 2 on VGG16 (ImageNet weights present) and on the built-in demo
(a VGG-style classifier trained on real handwritten digits): the model, the test images, the
class names, how a normalised image is displayed, and the step settings. Everything after the
setup is one step sequence (convlens.problem2.run)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from convlens.data import denormalize, imagenet_classes, read_image
from convlens.data.images import ImageItem
from convlens.data.problem2 import Problem2
from convlens.data.transforms import normalized_bounds, preprocess
from convlens.explain.quality import EXAM_METHODS
from convlens.problem2.answers import DigitsMetrics, Problem2Found
from convlens.runtime import Runtime
from convlens.seeding import random_classes


@dataclass(frozen=True)
class Sizes:
    """How much each step does: the report's one settings object per mode (the quick report,
    a smoke test, is another Sizes, not a condition inside the steps)."""

    class_viz_steps: int  # gradient steps per class model (2c)
    mc_samples: int  # Monte Carlo dropout samples per test image (2h)
    deletion_steps: int  # deletion/insertion frames per curve (the explanation checks)
    calibration_samples: int  # Monte Carlo samples for the calibration (2b)
    classifier_epochs: int = 0  # the demo's digits classifier
    eval_images: int = 0  # the demo checks this many labelled digits
    all_classes: bool = False  # 2c once more for every class (the demo's ten digits)
    ig_steps: int = 32  # Integrated Gradients' steps, where the report runs it


# 6 deletion/insertion steps and the top 4 layers randomised on VGG16: held to AVX2 (a Zen 4
# EPYC), the frames take 29.9 s at 6 steps (54.2 s at 10) and the randomisation 16.9 s; the
# whole checks took 52.5 s in the exam report, about 87 s on a real AVX2 laptop (x1.65,
# docs/benchmarks.md), within issue 43's 90; on the trained digits classifier the areas
# at 6 steps are within 0.027 of those at 24 and every map keeps its place against the random
# floor (bench_explanation_checks.py, docs/experiments.md)
SIZES = {
    ("imagenet", "full"): Sizes(150, 50, 6, 30),
    ("imagenet", "quick"): Sizes(20, 10, 8, 10, ig_steps=8),
    ("demo", "full"): Sizes(150, 100, 32, 50, 20, 48, True),
    ("demo", "quick"): Sizes(15, 20, 8, 10, 2, 12, False, ig_steps=8),
}
RANDOMISED_LAYERS = 4  # VGG16's top layers re-initialised by the randomisation test


def sizes(mode: str, quick: bool) -> Sizes:
    """The sizes of `mode` ("imagenet" or "demo") for the full or the quick report."""
    return SIZES[mode, "quick" if quick else "full"]


# Stand-ins for the exam's five test images when its folder was not given.
DEMO_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left")


@dataclass
class Problem2Setup:
    mode: str  # "imagenet" or "demo"
    model: nn.Module
    names: list[str]
    images: torch.Tensor  # the test images, normalised, B x C x H x W
    files: list[str]  # a display name per test image
    display: Callable[[torch.Tensor], np.ndarray]  # normalised batch -> B x H x W (x C) in [0, 1]
    prefix: str  # figure file names start with it
    class_viz: dict  # settings for class_model_visualisation
    classes: list[int]  # the classes 2c visualises
    samples: int  # Monte Carlo dropout samples per test image
    quality: dict  # steps / max_layers of the explanation checks
    eval_images: torch.Tensor | None = None  # labelled images for the explanation checks
    eval_labels: np.ndarray | None = None
    calibration_images: torch.Tensor | None = None
    calibration_labels: np.ndarray | None = None
    calibration_samples: int = 30
    validation: list[ImageItem] | None = None  # 2b's labelled images (ImageNet only)
    all_classes: bool = False  # 2c once more for every class (the demo's ten digits)
    info: dict = field(default_factory=dict)  # fields of Problem2Results the setup fills in
    # The attribution methods 2e-2f draws and the explanation checks score (the exam's two, or
    # every method the model can take), their settings, and why any was left out
    methods: tuple[str, ...] = EXAM_METHODS
    method_settings: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    transform: Callable = preprocess  # a labelled image file -> the model's input (2b)
    # Where and how the steps compute, with progress bars; its precision applies to the class
    # model passes only (attributions and Monte Carlo dropout stay in fp32)
    runtime: Runtime = field(default_factory=lambda: Runtime(progress=True))


def test_items(p2: Problem2 | None) -> tuple[list[ImageItem], str]:
    """The exam's test images (`p2`, already read), or five bundled photographs; and where
    they came from, for the record."""
    if p2 is not None:
        return p2.test, "the exam's five test images"
    from PIL import Image

    from convlens.demo.photos import bundled_photographs

    photos = bundled_photographs()
    items = []
    for name in DEMO_PHOTOS:
        buf = io.BytesIO()
        Image.fromarray(photos[name]).save(buf, format="PNG")
        items.append(ImageItem(name, buf.getvalue, None))
    return items, "five bundled photographs (the exam's test images were not given)"


def imagenet_setup(model: nn.Module, p2: Problem2 | None, seed: int, size: Sizes):
    """VGG16's steps on the exam's test and validation images (`p2`, already read), or on
    five bundled photographs."""
    items, where = test_items(p2)
    x = torch.stack([preprocess(read_image(it)) for it in items])
    return Problem2Setup(
        mode="imagenet",
        model=model,
        names=list(imagenet_classes().names),
        images=x,
        files=[Path(it.name).name for it in items],
        display=denormalize,
        prefix="vgg16",
        class_viz={
            "steps": size.class_viz_steps,
            "l2": 1e-3,
            "blur_sigma": 1.0,
            "jitter": 4,
            "clamp": normalized_bounds(),
        },
        classes=random_classes(seed, 1000, 3),
        samples=size.mc_samples,
        quality={"steps": size.deletion_steps, "max_layers": RANDOMISED_LAYERS},
        validation=p2.validation if p2 is not None else None,
        calibration_samples=size.calibration_samples,
        info={"test_images": where},
        # VGG16's class models in bf16 where the hardware runs it natively
        # (bench_class_models.py measures the outcome against fp32 on a trained model)
        runtime=Runtime(precision="auto", progress=True),
    )


def demo_class_viz(steps: int) -> dict:
    """2c's settings for the digits classifier (its inputs are normalised 0-1 grey pixels)."""
    from convlens.demo.digits import MEAN, STD

    return {
        "steps": steps,
        "l2": 0.1,
        "decay": 0.02,
        "jitter": 2,
        "blur_sigma": 0.7,
        "clamp": (-MEAN / STD, (1 - MEAN) / STD),
    }


def demo_setup(p2: Problem2 | None, seed: int, size: Sizes, missing: str) -> Problem2Setup:
    """The digits classifier's steps; `p2` (the exam's folder, already read, or None) is only
    counted for the report's note."""
    from convlens.demo.digits import MEAN, STD, to_display, train_digits_classifier
    from convlens.models import vgg16
    from convlens.problem2.methods import applicable_methods, method_settings

    model, data, metrics = train_digits_classifier(seed=seed, epochs=size.classifier_epochs)
    # Five test digits: the first four and, when there is one, a later misclassified digit.
    with torch.no_grad():
        pred = model(data.x_test).argmax(1)
    wrong = torch.nonzero(pred != data.y_test).flatten().tolist()
    idx = [0, 1, 2, 3, next((w for w in wrong if w > 3), 4)]
    n_eval = size.eval_images
    info = {
        "missing_weights": missing,
        "digits": DigitsMetrics(**metrics),
        "vgg16_parameters": sum(p.numel() for p in vgg16(init_weights=False).parameters()),
    }
    if p2 is not None:
        info["problem2_found"] = Problem2Found(len(p2.validation), len(p2.test))
    # The demo's small digits take every method (its checks cost seconds), so the report shows
    # what convlens does for a user's own model; VGG16 keeps the exam's two
    methods, skipped = applicable_methods(model, tuple(data.x_test.shape[1:]))
    black = -MEAN / STD  # a black pixel, normalised
    settings = method_settings(data.x_test.shape[-1], [black], size.ig_steps)
    return Problem2Setup(
        mode="demo",
        model=model,
        names=data.names,
        images=data.x_test[idx],
        files=[f"digit #{i} (true {int(data.y_test[i])})" for i in idx],
        display=to_display,
        prefix="demo",
        class_viz=demo_class_viz(size.class_viz_steps),
        classes=random_classes(seed, 10, 3),
        samples=size.mc_samples,
        quality={"steps": size.deletion_steps, "max_layers": None},
        eval_images=data.x_test[:n_eval],
        calibration_images=data.x_test,
        calibration_labels=data.y_test.numpy(),
        calibration_samples=size.calibration_samples,
        all_classes=size.all_classes,
        info=info,
        methods=tuple(methods),
        method_settings=settings,
        skipped=skipped,
    )


def user_setup(
    model: nn.Module,
    spec: str,
    names: list[str],
    prep,
    p2: Problem2 | None,
    seed: int,
    size: Sizes,
) -> Problem2Setup:
    """A user's own classifier (`convlens report --model`): the exam's steps on the exam's test
    images (or five bundled photographs) with its preprocessing (`prep`, a
    convlens.models.user_model.Preprocessing), every attribution method it can take, 2b where
    its classes are ImageNet's (the exam's validation labels are ImageNet class ids) and 2h
    where it has dropout; what it cannot take is one line each in the record."""
    from convlens.problem2.methods import applicable_methods, method_settings
    from convlens.uncertainty.mc_dropout import has_dropout

    items, where = test_items(p2)
    x = torch.stack([prep(read_image(it)) for it in items])
    shape = tuple(x.shape[1:])
    methods, skipped = applicable_methods(model, shape)
    not_run = []
    validation = None
    if p2 is not None and p2.validation:
        if len(names) == len(imagenet_classes().names):
            validation = p2.validation
        else:
            not_run.append(
                f"2b: the exam's validation labels are ImageNet's 1000 classes; the model scores "
                f"{len(names)}"
            )
    dropout = has_dropout(model)
    if not dropout:
        not_run.append("2h: the model has no dropout layer that drops anything, so no MC dropout")
    black = [-m / s for m, s in zip(prep.mean, prep.std, strict=True)]
    return Problem2Setup(
        mode="user",
        model=model,
        names=names,
        images=x,
        files=[Path(it.name).name for it in items],
        display=lambda t: denormalize(t, prep.mean, prep.std),
        prefix="user",
        class_viz={
            "steps": size.class_viz_steps,
            "l2": 1e-3,
            "blur_sigma": 1.0,
            "jitter": max(prep.input_size // 56, 1),
            "clamp": normalized_bounds(prep.mean, prep.std),
        },
        classes=random_classes(seed, len(names), min(3, len(names))),
        samples=size.mc_samples if dropout else 0,
        quality={"steps": size.deletion_steps, "max_layers": RANDOMISED_LAYERS},
        validation=validation,
        calibration_samples=size.calibration_samples,
        info={"test_images": where, "user_model": spec, "not_run": not_run or None},
        runtime=Runtime(precision="auto", progress=True),
        methods=tuple(methods),
        method_settings=method_settings(prep.input_size, black, size.ig_steps),
        skipped=skipped,
        transform=prep,
    )
