"""Integrated Gradients (Sundararajan, Taly & Yan 2017).

The attribution of pixel i is (x_i - x'_i) times the mean gradient of the target score along
the straight path from a baseline x' to the image x, here by the trapezoidal rule over `steps`
intervals. Completeness: the attributions add up to S(x) - S(x'), up to the rule's error, which
is reported for every image so a user can see whether the steps were enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.explain.blur import gaussian_blur
from convlens.explain.memory import chunk_size
from convlens.explain.model_state import as_targets, check_images, class_score_gradient, preserved

BASELINES = ("black", "blurred")


@dataclass(frozen=True)
class IntegratedGradients:
    attributions: torch.Tensor  # B x C x H x W
    completeness_error: torch.Tensor  # B: |sum of attributions - (S(x) - S(baseline))|
    score_change: torch.Tensor  # B: S(x) - S(baseline)


def baseline_of(images: torch.Tensor, kind: str, black: torch.Tensor | None = None):
    """The path's start: "black" (`black`, the normalised value of a black pixel per channel;
    zeros when None) or "blurred" (the image under a wide Gaussian blur: no edges, the same
    colours)."""
    if kind == "black":
        if black is None:
            return torch.zeros_like(images)
        return black.view(1, -1, 1, 1).to(images).expand_as(images).clone()
    if kind == "blurred":
        return gaussian_blur(images, sigma=max(images.shape[-2:]) / 16)
    raise ConvlensError(f"baseline must be one of {', '.join(BASELINES)}, got {kind!r}")


def integrated_gradients(
    model: nn.Module,
    images: torch.Tensor,
    target,
    *,
    baseline: str | torch.Tensor = "black",
    steps: int = 32,
    black: torch.Tensor | None = None,
    max_batch: int | None = None,
) -> IntegratedGradients:
    """Attributions B x C x H x W and each image's completeness error. The steps x images
    path points go through the model in batches sized to the memory at hand (`max_batch` caps
    them)."""
    images = check_images(images)
    if steps < 1:
        raise ConvlensError(f"steps must be >= 1, got {steps}")
    base = baseline if torch.is_tensor(baseline) else baseline_of(images, baseline, black)
    if base.shape != images.shape:
        raise ConvlensError(f"baseline must have the images' shape {tuple(images.shape)}")
    targets = as_targets(target, images.shape[0], images.device)
    alphas = torch.linspace(0, 1, steps + 1, device=images.device)
    weights = torch.full((steps + 1,), 1.0 / steps, device=images.device)
    weights[0] = weights[-1] = 0.5 / steps  # the trapezoidal rule
    with preserved(model):
        chunk = max_batch or chunk_size(model, tuple(images.shape[1:]), gradients=True)
        total = torch.zeros_like(images, dtype=torch.float32)
        # every (image, step) pair, flattened, in chunks: the images interleave freely
        pairs = [(b, k) for b in range(images.shape[0]) for k in range(steps + 1)]
        for start in range(0, len(pairs), chunk):
            part = pairs[start : start + chunk]
            rows = torch.tensor([b for b, _ in part], device=images.device)
            ks = torch.tensor([k for _, k in part], device=images.device)
            a = alphas[ks].view(-1, 1, 1, 1)
            x = base[rows] + a * (images[rows] - base[rows])
            grad = class_score_gradient(model, x, targets[rows])
            total.index_add_(0, rows, grad * weights[ks].view(-1, 1, 1, 1))
        attributions = (images - base) * total
        with torch.no_grad():
            both = model(torch.cat([images, base]).float())
            picked = both.gather(1, torch.cat([targets, targets]).view(-1, 1)).squeeze(1)
    change = picked[: len(images)] - picked[len(images) :]
    error = (attributions.flatten(1).sum(1) - change).abs()
    return IntegratedGradients(attributions.detach(), error.detach(), change.detach())
