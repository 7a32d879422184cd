"""Beside the exam's 2e and 2f: the maps of every other attribution method convlens has
(Grad-CAM, Guided Grad-CAM, Integrated Gradients, occlusion) for each test image's target
class, which the explanation checks then score with the exam's two. Which methods a model can
take, and their settings for its input size, are decided once, before any work."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.explain.attributions import METHODS
from convlens.explain.grad_cam import check_layer
from convlens.explain.guided_backprop import check_guidable
from convlens.explain.integrated_gradients import integrated_gradients
from convlens.explain.quality import EXAM_METHODS
from convlens.problem2.answers import MethodMaps

GUIDED = ("guided backprop", "guided grad-cam")  # need ReLUs to guide
GRAD_CAM = ("grad-cam", "guided grad-cam")  # need a convolutional feature map


def method_settings(side: int, black: Sequence[float], ig_steps: int) -> dict[str, dict]:
    """Each method's keywords for square inputs of `side` pixels: Integrated Gradients from a
    black image (`black`: a black pixel's normalised value per channel) in `ig_steps` steps;
    occlusion with a window a quarter of the side, every half window (7 x 7 windows)."""
    window = max(side // 4, 1)
    return {
        "integrated gradients": {"steps": ig_steps, "black": torch.tensor(list(black))},
        "occlusion": {"window": window, "stride": max(window // 2, 1)},
    }


def applicable_methods(
    model: nn.Module, image_shape: tuple[int, ...], wanted: Sequence[str] = tuple(METHODS)
) -> tuple[list[str], list[str]]:
    """(the methods of `wanted` this model can take, a line for each it cannot and why):
    guided backpropagation needs ReLUs, Grad-CAM a convolutional feature map."""
    usable, skipped = list(wanted), []

    def drop(names, why):
        for name in names:
            if name in usable:
                usable.remove(name)
                skipped.append(f"{name}: {why}")

    try:
        check_guidable(model, image_shape)
    except ConvlensError as exc:
        drop(GUIDED, str(exc))
    try:
        check_layer(model, None, image_shape)
    except ConvlensError as exc:
        drop(GRAD_CAM, str(exc))
    return usable, skipped


def other_method_maps(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    methods: Sequence[str],
    settings: dict[str, dict],
    skipped: Sequence[str] = (),
) -> MethodMaps:
    """The maps of `methods` other than the exam's two, in fp32 where the model and images
    are, and Integrated Gradients' completeness error (|sum of attributions - score change|,
    relative to the score change) per image."""
    maps, completeness = {}, None
    for name in methods:
        if name in EXAM_METHODS:
            continue
        if name == "integrated gradients":
            ig = integrated_gradients(model, images, targets, **settings.get(name, {}))
            maps[name] = ig.attributions
            change = ig.score_change.abs().clamp_min(1e-12)
            completeness = (ig.completeness_error / change).tolist()
        else:
            maps[name] = METHODS[name](model, images, targets, **settings.get(name, {}))
    ig_settings = settings.get("integrated gradients", {})
    occ = settings.get("occlusion", {})
    return MethodMaps(
        methods=list(maps),
        skipped=list(skipped),
        ig_steps=ig_settings.get("steps") if "integrated gradients" in maps else None,
        ig_relative_completeness_error=completeness,
        occlusion_window=occ.get("window") if "occlusion" in maps else None,
        occlusion_stride=occ.get("stride") if "occlusion" in maps else None,
        figure=None,
        maps={k: v.detach() for k, v in maps.items()},
    )
