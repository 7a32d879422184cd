"""Leave the model as we found it: train/eval flags and requires_grad, restored in `finally`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.model_modes import modes_restored


@contextlib.contextmanager
def preserved(model: nn.Module, train: bool = False, freeze: bool = True) -> Iterator[nn.Module]:
    """Put `model` in eval (or train) mode with frozen parameters, and restore both afterwards.

    Freezing the parameters keeps explanation backward passes from accumulating `.grad` on
    them (and is faster: no weight gradients are computed).
    """
    flags = [(p, p.requires_grad) for p in model.parameters()]
    grads = [(p, p.grad) for p in model.parameters()]
    with modes_restored(model):
        try:
            model.train(train)
            if freeze:
                for p in model.parameters():
                    p.requires_grad_(False)
            yield model
        finally:
            for p, flag in flags:
                p.requires_grad_(flag)
            for p, g in grads:
                p.grad = g


def as_targets(target, batch: int, device: torch.device) -> torch.Tensor:
    """One class per image: an int for all, or a sequence/tensor of length `batch`."""
    t = torch.as_tensor(target, device=device).long().flatten()
    if t.numel() == 1:
        return t.expand(batch)
    if t.numel() != batch:
        raise ConvlensError(f"target must be one class or one per image ({batch}), got {t.numel()}")
    return t


def check_images(x: torch.Tensor) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ConvlensError(f"images must be a B x C x H x W tensor, got {shape}")
    if not torch.isfinite(x).all():
        raise ConvlensError("images contain NaN or inf")
    return x


def class_score_gradient(model: nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    """d S_c / d x for the unnormalised score S_c of each image's target class, in fp32.

    The scores of different images are summed before the backward pass: in eval mode images
    do not interact, so each image receives exactly the gradient of its own score.
    """
    x = check_images(x).detach().float().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(target_score_sum(model(x), target), x)
    return grad


def target_score_sum(scores: torch.Tensor, target) -> torch.Tensor:
    """The sum over images of each image's target-class score, after checking that the model
    gave B x K scores and that every target is one of the K classes."""
    if scores.ndim != 2:
        raise ConvlensError(f"model must return B x K scores, got {tuple(scores.shape)}")
    t = as_targets(target, scores.shape[0], scores.device)
    if int(t.max()) >= scores.shape[1] or int(t.min()) < 0:
        raise ConvlensError(f"target out of range 0..{scores.shape[1] - 1}")
    return scores.gather(1, t.view(-1, 1)).sum()
