"""Guided backpropagation (Springenberg et al. 2014).

Through every ReLU, the backward pass keeps a gradient only where the forward input was
positive *and* the incoming gradient is positive. Module hooks (the usual way) miss ReLUs called
functionally (`F.relu`, `torch.relu`, `x.relu()`), and break on in-place ReLUs; instead we
intercept the ReLU *functions* for the duration of one forward pass with a TorchFunctionMode,
so every ReLU is guided however it is called, once per call, and the model is never modified.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from convlens.errors import ConvlensError
from convlens.explain.model_state import check_images, class_score_gradient, preserved

NO_RELU = (
    "guided backpropagation guides ReLUs, and this model calls none (GELU, SiLU or another "
    "activation?); use saliency, Grad-CAM or Integrated Gradients instead"
)


class ReLURule:
    """Which backward rule the intercepted ReLUs apply, read when the backward pass runs (so
    one forward pass can serve a plain and a guided backward pass)."""

    def __init__(self, guided: bool = True):
        self.guided = guided


def _backward(ctx, grad):
    # The mask of positive inputs is saved rather than the output, so later in-place ops on
    # the output (legal in the user's model) cannot invalidate the backward pass.
    (positive,) = ctx.saved_tensors
    if ctx.rule.guided:
        return grad.clamp_min(0).mul_(positive), None
    # PyTorch's own ReLU backward (threshold_backward): the gradient where the input was > 0
    return torch.where(positive, grad, torch.zeros((), dtype=grad.dtype)), None


class _ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, rule):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.rule = rule
        return x.clamp(min=0)

    backward = staticmethod(_backward)


class _ReLUInplace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, rule):
        positive = x > 0
        x.clamp_(min=0)
        ctx.mark_dirty(x)
        ctx.save_for_backward(positive)
        ctx.rule = rule
        return x

    backward = staticmethod(_backward)


_OUT_OF_PLACE = {torch.relu, F.relu, torch.Tensor.relu}
_IN_PLACE = {torch.relu_, torch.Tensor.relu_, F.relu_}


class guided_relus(TorchFunctionMode):
    """Within this context every ReLU call is a guided ReLU (or, with `ReLURule(False)`, a
    plain one whose rule may be switched to guided before a later backward pass)."""

    def __init__(self, rule: ReLURule | None = None):
        super().__init__()
        self.rule = rule or ReLURule()
        self.guided = 0  # the ReLU calls intercepted so far

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.relu and kwargs.get("inplace", args[1] if len(args) > 1 else False):
            self.guided += 1
            return _ReLUInplace.apply(args[0], self.rule)
        if func in _OUT_OF_PLACE:
            self.guided += 1
            return _ReLU.apply(args[0], self.rule)
        if func in _IN_PLACE:
            self.guided += 1
            return _ReLUInplace.apply(args[0], self.rule)
        return func(*args, **kwargs)


def check_guidable(model: nn.Module, image_shape: tuple[int, ...]) -> None:
    """Refuse, before any work, a model that calls no ReLU: one pass of a blank image counts
    the ReLU calls guided backpropagation would guide."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    with preserved(model), torch.no_grad(), guided_relus(ReLURule(False)) as mode:
        model(torch.zeros(1, *image_shape, device=device))
    if not mode.guided:
        raise ConvlensError(NO_RELU)


def guided_backprop(model: nn.Module, images: torch.Tensor, target) -> torch.Tensor:
    """B x C x H x W signed guided-backpropagation maps for each image's target class."""
    images = check_images(images)
    with preserved(model), guided_relus() as mode:
        grad = class_score_gradient(model, images, target)
    if not mode.guided:  # GELU, SiLU...: the result would be the plain gradient, unsaid
        raise ConvlensError(NO_RELU)
    return grad


def to_displayable(maps: torch.Tensor, percentile: float = 99.5) -> torch.Tensor:
    """B x H x W x C in [0, 1]: zero gradient at 0.5 grey, clipped at a high percentile of |g|."""
    maps = maps.detach().float()
    flat = maps.abs().flatten(1)
    scale = torch.quantile(flat, percentile / 100.0, dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
    return (0.5 + 0.5 * (maps / scale).clamp(-1, 1)).permute(0, 2, 3, 1)


def positive_magnitude(maps: torch.Tensor) -> torch.Tensor:
    """B x H x W: the largest positive channel value, a common single-channel view."""
    return maps.detach().float().clamp_min(0).amax(dim=1)
