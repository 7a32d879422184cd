"""Exam step 2c: class model visualisations (Simonyan et al. 2013, section 2), once without and
once with a Gaussian blur every k steps, and how the two compare."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from convlens.errors import ConvlensError
from convlens.explain import class_model_visualisation
from convlens.explain.class_model import ClassVizResult, high_frequency_share
from convlens.model_modes import modes_restored
from convlens.problem2.answers import ClassModelRow, ClassModels
from convlens.runtime import Runtime
from convlens.seeding import random_classes


def chosen_classes(
    model: torch.nn.Module,
    image_shape: tuple[int, int, int],
    classes: Sequence[int] | None,
    random: int,
    seed: int,
) -> tuple[list[int], int]:
    """(the classes to visualise, how many the model has): `classes` checked against the
    model's output, or `random` of them drawn with `seed` (convlens.seeding.random_classes)."""
    device = next(model.parameters()).device
    with torch.no_grad(), modes_restored(model):
        num_classes = model.eval()(torch.zeros(1, *image_shape, device=device)).shape[1]
    if classes:
        bad = [c for c in classes if not 0 <= c < num_classes]
        if bad:
            raise ConvlensError(f"--classes: {bad} out of range 0..{num_classes - 1}")
        return list(classes), num_classes
    if random > num_classes:
        raise ConvlensError(f"--random {random}: the model has only {num_classes} classes")
    return random_classes(seed, num_classes, random), num_classes


def class_models(
    model: torch.nn.Module,
    classes: Sequence[int],
    image_shape: tuple[int, int, int],
    names: Sequence[str],
    *,
    blur_every: int = 5,
    seed: int = 0,
    runtime: Runtime = Runtime(),
    **settings,
) -> ClassModels:
    """Per class: the final probability and score without and with blur, the steps the blurred
    ascent took to reach probability 0.9, and each image's high-frequency share; the images
    themselves for the figure (convlens.figures.problem2.class_models_figure).

    `settings` go to class_model_visualisation (steps, lr, l2, blur_sigma, jitter, clamp...);
    `runtime` says where, in which precision and with or without a progress bar."""
    n = len(classes)
    # Both variants in one batch: one forward and backward pass per step instead of two.
    both = class_model_visualisation(
        model,
        list(classes) * 2,
        image_shape,
        blur_every=blur_every,
        blur_images=[False] * n + [True] * n,
        seed=seed,
        device=runtime.device,
        precision=runtime.precision,
        progress=runtime.progress,
        **settings,
    )
    plain, blurred = _half(both, slice(0, n)), _half(both, slice(n, 2 * n))
    labels = [names[c] for c in classes]
    hf_plain, hf_blur = high_frequency_share(plain.images), high_frequency_share(blurred.images)
    return ClassModels(
        classes=[
            ClassModelRow(
                class_id=int(c),
                name=labels[i],
                prob_no_blur=plain.prob[-1][i],
                prob_blur=blurred.prob[-1][i],
                score_no_blur=plain.score[-1][i],
                score_blur=blurred.score[-1][i],
                steps_to_09_blur=blurred.steps_to(0.9)[i],
                hf_energy_no_blur=hf_plain[i],
                hf_energy_blur=hf_blur[i],
            )
            for i, c in enumerate(classes)
        ],
        figure=None,
        steps=len(plain.prob),
        blur_every=blur_every,
        seconds=round(both.seconds, 1),
        precision=runtime.resolved_precision,
        images_no_blur=plain.images.cpu(),
        images_blur=blurred.images.cpu(),
    )


def _half(r: ClassVizResult, part: slice) -> ClassVizResult:
    return ClassVizResult(
        images=r.images[part],
        classes=r.classes[part],
        score=[row[part] for row in r.score],
        prob=[row[part] for row in r.prob],
        seconds=r.seconds,
    )
