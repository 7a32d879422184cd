"""Grad-CAM (Selvaraju et al. 2017) and Guided Grad-CAM.

Grad-CAM weighs a convolutional layer's feature maps A_k by the mean over space of the target
score's gradient, w_k = mean_ij dS_c/dA_k[i, j], and keeps the positive part of sum_k w_k A_k:
where the layer sees evidence for the class. The coarse map is upsampled to the input
(bilinear). Guided Grad-CAM multiplies it into guided backpropagation's fine-grained map.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from convlens.errors import ConvlensError
from convlens.explain.guided_backprop import guided_backprop
from convlens.explain.layers import layer_named
from convlens.explain.model_state import check_images, preserved, target_score_sum


@contextlib.contextmanager
def _captured(layer: nn.Module, store: list):
    """The layer's output kept for the block; a clone goes on through the network, so an
    in-place operation after the layer (VGG's ReLU(inplace=True)) cannot change what is kept."""

    def hook(module, inputs, output):
        store.append(output)
        return output.clone()

    handle = layer.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _feature_maps(store: list, name: str, batch: int) -> torch.Tensor:
    """The layer's one output: B x C x H x W feature maps, called once per forward pass; any
    other layer (a linear one, one the model calls twice) is one line naming it."""
    if len(store) != 1:
        raise ConvlensError(
            f"--layer {name!r}: the model calls it {len(store)} times in one pass; Grad-CAM "
            "reads a layer called once"
        )
    (acts,) = store
    if not isinstance(acts, torch.Tensor) or acts.ndim != 4 or acts.shape[0] != batch:
        shape = tuple(acts.shape) if isinstance(acts, torch.Tensor) else type(acts).__name__
        raise ConvlensError(
            f"--layer {name!r}: outputs {shape}, not B x C x H x W feature maps; Grad-CAM reads a "
            "convolutional layer"
        )
    return acts


def check_layer(model: nn.Module, layer: str | None, image_shape: tuple[int, ...]) -> None:
    """Refuse, before any work, a layer Grad-CAM cannot read: one pass of a blank image."""
    name, module = layer_named(model, layer)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    store: list = []
    with preserved(model), torch.no_grad(), _captured(module, store):
        model(torch.zeros(1, *image_shape, device=device))
    _feature_maps(store, name, 1)


def grad_cam(
    model: nn.Module,
    images: torch.Tensor,
    target,
    *,
    layer: str | None = None,
    upsample: str = "bilinear",
    relu: bool = True,
) -> torch.Tensor:
    """B x H x W Grad-CAM maps at the input's size, of `layer` (a name in named_modules();
    by default the last convolution). `upsample`: how the layer's map reaches the input size
    ("bilinear", "nearest"); `relu`: keep the positive part, as the paper does."""
    images = check_images(images)
    name, module = layer_named(model, layer)
    with preserved(model), torch.enable_grad():
        store: list = []
        x = images.detach().float().requires_grad_(True)  # so the layer's output is in the graph
        with _captured(module, store):
            scores = model(x)
        acts = _feature_maps(store, name, len(x))
        (grads,) = torch.autograd.grad(target_score_sum(scores, target), acts)
        cam = (grads.mean(dim=(2, 3), keepdim=True) * acts).sum(1, keepdim=True).detach()
    if relu:
        cam = cam.clamp_min(0)
    kw = {"align_corners": False} if upsample in ("bilinear", "bicubic") else {}
    return F.interpolate(cam, size=images.shape[-2:], mode=upsample, **kw)[:, 0]


def guided_grad_cam(
    model: nn.Module,
    images: torch.Tensor,
    target,
    *,
    layer: str | None = None,
    upsample: str = "bilinear",
) -> torch.Tensor:
    """B x C x H x W: guided backpropagation times the Grad-CAM map of each image."""
    cam = grad_cam(model, images, target, layer=layer, upsample=upsample)
    return guided_backprop(model, images, target) * cam.unsqueeze(1)
