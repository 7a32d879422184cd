"""Separable Gaussian blur in torch (depthwise convolution with reflect padding)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gaussian_kernel1d(sigma: float, truncate: float = 3.0) -> torch.Tensor:
    radius = max(1, int(math.ceil(truncate * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur each channel of a B x C x H x W tensor; sigma <= 0 returns x unchanged."""
    if sigma <= 0:
        return x
    k = gaussian_kernel1d(sigma).to(x.device, x.dtype)
    r = k.numel() // 2
    c = x.shape[1]
    # Reflect padding needs pad < size; very small images fall back to replicate.
    mode = "reflect" if min(x.shape[-2:]) > r else "replicate"
    y = F.pad(x, (r, r, 0, 0), mode=mode)
    y = F.conv2d(y, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    y = F.pad(y, (0, 0, r, r), mode=mode)
    return F.conv2d(y, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
