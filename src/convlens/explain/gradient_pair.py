"""The saliency map and the guided-backpropagation map of the same images from one forward pass.

The two maps differ only in how the backward pass treats each ReLU: the plain gradient keeps
the incoming gradient where the forward input was positive, guided backpropagation also drops
its negative part. Both need only the forward pass's sign mask, so one forward pass, kept for
two backward passes, serves both: three network passes instead of four. Every ReLU is
intercepted by `guided_relus` (functional, in-place and module ReLUs alike) with a rule that
is plain for the first backward pass and guided for the second.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from convlens.errors import ConvlensError
from convlens.explain.guided_backprop import NO_RELU, ReLURule, guided_relus
from convlens.explain.model_state import check_images, preserved, target_score_sum


@dataclass
class GradientPair:
    scores: torch.Tensor  # B x K unnormalised scores of the (shared) forward pass
    saliency: torch.Tensor  # B x H x W: |d S_c / d I| maximised over channels
    guided_backprop: torch.Tensor  # B x C x H x W, signed


def saliency_and_guided(model: nn.Module, images: torch.Tensor, target=None) -> GradientPair:
    """Both maps for each image's target class (default: the class the model predicts), equal
    to `saliency(model, images, t)` and `guided_backprop(model, images, t)`, in fp32."""
    x = check_images(images).detach().float().requires_grad_(True)
    rule = ReLURule(guided=False)
    with preserved(model), torch.enable_grad():
        with guided_relus(rule) as mode:
            scores = model(x)
        if not mode.guided:
            raise ConvlensError(NO_RELU)
        if target is None and scores.ndim == 2:  # else target_score_sum names the problem
            target = scores.detach().argmax(1)
        chosen = target_score_sum(scores, target)
        (plain,) = torch.autograd.grad(chosen, x, retain_graph=True)
        rule.guided = True
        (guided,) = torch.autograd.grad(chosen, x)
    return GradientPair(scores.detach(), plain.abs().amax(dim=1), guided)
