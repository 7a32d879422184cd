"""Occlusion (Zeiler & Fergus 2014): slide a window of a baseline value over the image and
record how much the target's score drops; each pixel's attribution is the mean drop over the
windows that covered it. No gradient is read, so it works on any model, ReLU or not."""

from __future__ import annotations

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.explain.memory import chunk_size
from convlens.explain.model_state import as_targets, check_images, preserved


def window_starts(size: int, window: int, stride: int) -> list[int]:
    """Where windows start along one side: every `stride`, the last one ending inside."""
    return list(range(0, size - window + 1, stride))


def occlusion(
    model: nn.Module,
    images: torch.Tensor,
    target,
    *,
    window: int = 16,
    stride: int = 8,
    baseline: float = 0.0,
    max_batch: int | None = None,
) -> torch.Tensor:
    """B x C x H x W: for each pixel, the mean of S(x) - S(x with a window occluded) over the
    windows (all channels, `window` x `window`, every `stride` pixels) that cover it (0 where
    none does). The occluded copies of all images go through the model in batches sized to the
    memory at hand (`max_batch` caps them)."""
    images = check_images(images)
    b, c, h, w = images.shape
    if not (1 <= window <= min(h, w)) or stride < 1:
        raise ConvlensError(
            f"window must be in 1..{min(h, w)} and stride >= 1, got {window} and {stride}"
        )
    targets = as_targets(target, b, images.device)
    spots = [
        (y, x) for y in window_starts(h, window, stride) for x in window_starts(w, window, stride)
    ]
    jobs = [(i, y, x) for i in range(b) for y, x in spots]
    with preserved(model), torch.no_grad():
        chunk = max_batch or chunk_size(model, (c, h, w), gradients=False)
        plain = model(images.float()).gather(1, targets.view(-1, 1)).squeeze(1)
        total = torch.zeros_like(images, dtype=torch.float32)
        count = torch.zeros((b, 1, h, w), device=images.device)
        for start in range(0, len(jobs), chunk):
            part = jobs[start : start + chunk]
            rows = torch.tensor([i for i, _, _ in part], device=images.device)
            x = images[rows].float().clone()
            for n, (_, y, xx) in enumerate(part):
                x[n, :, y : y + window, xx : xx + window] = baseline
            drop = plain[rows] - model(x).gather(1, targets[rows].view(-1, 1)).squeeze(1)
            for n, (i, y, xx) in enumerate(part):
                total[i, :, y : y + window, xx : xx + window] += drop[n]
                count[i, :, y : y + window, xx : xx + window] += 1
    return torch.where(count > 0, total / count.clamp_min(1), torch.zeros(()))
