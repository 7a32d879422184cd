"""The attribution methods by name, one contract: `(model, images, targets, **settings) -> a
B x C x H x W or B x H x W map` for each, so the commands, the checks (deletion/insertion and
parameter randomisation) and the report treat every method alike."""

from __future__ import annotations

from collections.abc import Callable

import torch

from convlens.explain.grad_cam import grad_cam, guided_grad_cam
from convlens.explain.guided_backprop import guided_backprop
from convlens.explain.integrated_gradients import integrated_gradients
from convlens.explain.occlusion import occlusion
from convlens.explain.saliency import saliency


def _integrated(model, images, targets, **settings) -> torch.Tensor:
    return integrated_gradients(model, images, targets, **settings).attributions


METHODS: dict[str, Callable[..., torch.Tensor]] = {
    "saliency": saliency,
    "guided backprop": guided_backprop,
    "grad-cam": grad_cam,
    "guided grad-cam": guided_grad_cam,
    "integrated gradients": _integrated,
    "occlusion": occlusion,
}


def attribution_map(maps: torch.Tensor) -> torch.Tensor:
    """B x H x W magnitudes of any method's maps (channels folded by their largest |value|):
    what deletion/insertion ranks pixels by and what a figure shows."""
    maps = maps.detach().float()
    return maps.abs().amax(dim=1) if maps.ndim == 4 else maps.abs()


def method_passes(name: str, settings: dict, side: int) -> tuple[int, int]:
    """(forward passes, forward-and-backward passes) one image's map of `name` costs with its
    `settings` on square inputs of `side` pixels: what a plan multiplies by timed passes."""
    from convlens.explain.occlusion import window_starts

    if name == "integrated gradients":
        return 0, settings.get("steps", 32)
    if name == "occlusion":
        window, stride = settings.get("window", 16), settings.get("stride", 8)
        return len(window_starts(side, window, stride)) ** 2 + 1, 0
    return 0, 2 if name == "guided grad-cam" else 1
