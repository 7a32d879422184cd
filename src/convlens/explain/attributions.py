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
