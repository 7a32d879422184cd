"""The saliency map and the guided-backpropagation map of the same images from one forward pass.

The two maps differ only in how the backward pass treats each ReLU: the plain gradient keeps
the incoming gradient where the forward input was positive, guided backpropagation also drops
its negative part. Both need only the forward pass's sign mask, so one forward pass, kept for
two backward passes, serves both: three network passes instead of four. Every ReLU is
intercepted as in `guided_relus` (functional, in-place and module ReLUs alike), and a switch
read at backward time says which rule applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from convlens.errors import ConvlensError
from convlens.explain.guided_backprop import _IN_PLACE, _OUT_OF_PLACE
from convlens.explain.model_state import as_targets, check_images, preserved


class _Switch:
    guided = False


def _backward(ctx, grad):
    (positive,) = ctx.saved_tensors
    if ctx.switch.guided:  # the rule of convlens.explain.guided_backprop, bit for bit
        return grad.clamp_min(0).mul_(positive), None
    # PyTorch's own ReLU backward (threshold_backward): the gradient where the input was > 0
    return torch.where(positive, grad, torch.zeros((), dtype=grad.dtype)), None


class _SwitchReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, switch):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.switch = switch
        return x.clamp(min=0)

    backward = staticmethod(_backward)


class _SwitchReLUInplace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, switch):
        positive = x > 0
        x.clamp_(min=0)
        ctx.mark_dirty(x)
        ctx.save_for_backward(positive)
        ctx.switch = switch
        return x

    backward = staticmethod(_backward)


class _switchable_relus(TorchFunctionMode):
    def __init__(self, switch: _Switch):
        super().__init__()
        self.switch = switch

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.relu and kwargs.get("inplace", args[1] if len(args) > 1 else False):
            return _SwitchReLUInplace.apply(args[0], self.switch)
        if func in _OUT_OF_PLACE:
            return _SwitchReLU.apply(args[0], self.switch)
        if func in _IN_PLACE:
            return _SwitchReLUInplace.apply(args[0], self.switch)
        return func(*args, **kwargs)


@dataclass
class GradientPair:
    scores: torch.Tensor  # B x K unnormalised scores of the (shared) forward pass
    saliency: torch.Tensor  # B x H x W: |d S_c / d I| maximised over channels
    guided_backprop: torch.Tensor  # B x C x H x W, signed


def saliency_and_guided(model: nn.Module, images: torch.Tensor, target=None) -> GradientPair:
    """Both maps for each image's target class (default: the class the model predicts), equal
    to `saliency(model, images, t)` and `guided_backprop(model, images, t)`, in fp32."""
    x = check_images(images).detach().float().requires_grad_(True)
    switch = _Switch()
    with preserved(model), torch.enable_grad():
        with _switchable_relus(switch):
            scores = model(x)
        if scores.ndim != 2:
            raise ConvlensError(f"model must return B x K scores, got {tuple(scores.shape)}")
        if target is None:
            target = scores.detach().argmax(1)
        t = as_targets(target, x.shape[0], x.device)
        if int(t.max()) >= scores.shape[1] or int(t.min()) < 0:
            raise ConvlensError(f"target out of range 0..{scores.shape[1] - 1}")
        chosen = scores.gather(1, t.view(-1, 1)).sum()
        (plain,) = torch.autograd.grad(chosen, x, retain_graph=True)
        switch.guided = True
        (guided,) = torch.autograd.grad(chosen, x)
    return GradientPair(scores.detach(), plain.abs().amax(dim=1), guided)
