"""Image-specific class saliency (Simonyan, Vedaldi & Zisserman 2013, section 3.1).

The map is |d S_c / d I| maximised over colour channels, where S_c is the *unnormalised* score:
the softmax would also reward lowering other classes' scores. SmoothGrad (Smilkov et al. 2017)
averages that over noisy copies of the image.
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.explain.model_state import as_targets, check_images, class_score_gradient, preserved


def saliency(
    model: nn.Module,
    images: torch.Tensor,
    target,
    *,
    smoothgrad_samples: int = 0,
    noise: float = 0.15,
    max_batch: int = 32,
    seed: int = 0,
) -> torch.Tensor:
    """B x H x W saliency maps for each image's target class.

    With `smoothgrad_samples` > 0 the absolute gradient is averaged over that many copies with
    Gaussian noise of standard deviation `noise` times each image's value range; copies are run
    in chunks of at most `max_batch` images to bound memory.
    """
    images = check_images(images)
    with preserved(model):
        if smoothgrad_samples <= 0:
            return class_score_gradient(model, images, target).abs().amax(dim=1)
        targets = as_targets(target, images.shape[0], images.device)
        gen = torch.Generator(device=images.device).manual_seed(seed)
        out = []
        for x, t in zip(images, targets, strict=True):
            sigma = noise * float(x.max() - x.min())
            total = torch.zeros_like(x)
            for start in range(0, smoothgrad_samples, max_batch):
                n = min(max_batch, smoothgrad_samples - start)
                eps = torch.randn((n, *x.shape), generator=gen, device=x.device) * sigma
                total += class_score_gradient(model, x + eps, t.repeat(n)).abs().sum(0)
            out.append((total / smoothgrad_samples).amax(dim=0))
        return torch.stack(out)
