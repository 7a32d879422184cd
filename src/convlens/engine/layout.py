"""Which memory layout a model and its images take: decided here for every caller.

channels_last pays off with bf16 or fp16 convolutions anywhere (oneDNN, cuDNN), and on a CPU in
fp32 too for training and forward-only passes, since oneDNN's convolutions skip a reorder per
layer (benchmarks/bench_precision.py: a training step of EdgeNet 1.4x, VGG-11-BN 1.2x the speed
of the contiguous layout on an AVX-512 Xeon; VGG16's forward pass 1.25x on an AVX2 EPYC).
Attributions in fp32 stay contiguous, so that they are bit-identical to Captum's."""

from __future__ import annotations

import contextlib

import torch

from convlens.model_modes import modes_restored
from convlens.runtime import LOW_PRECISIONS, resolve_precision

# what a pass is for: "train" (an optimisation step), "forward" (forward passes whose layout
# the caller may choose, e.g. deletion curves), "inference" (the default batched pass) or
# "gradients" (an attribution: fp32 stays contiguous)
PURPOSES = ("train", "forward", "inference", "gradients")


def channels_last(device: torch.device, precision: str, purpose: str = "inference") -> bool:
    """Whether a pass for `purpose` on `device` in `precision` runs channels_last."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")
    if resolve_precision(device, precision) in LOW_PRECISIONS:
        return True
    if purpose == "train":
        return device.type == "cpu"
    return purpose == "forward"


def as_layout(x: torch.Tensor, channels_last_: bool) -> torch.Tensor:
    """A batch of images (N x C x H x W) in the layout chosen; other tensors as they are."""
    if channels_last_ and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


@contextlib.contextmanager
def placed(
    model: torch.nn.Module,
    device: torch.device,
    precision: str = "fp32",
    purpose: str = "inference",
):
    """The model in eval mode on `device`, in the layout `channels_last` gives `purpose`, for
    the block; afterwards exactly where and as it was: its device, memory format and train/eval
    flags. Yields (model, whether its images go channels_last)."""
    params = list(model.parameters())
    home = params[0].device if params else device
    convs = [p for p in params if p.dim() == 4]
    was_channels_last = (
        bool(convs)
        and convs[0].is_contiguous(memory_format=torch.channels_last)
        and not convs[0].is_contiguous()
    )
    last = channels_last(device, precision, purpose)
    with modes_restored(model):
        try:
            model = model.eval().to(device)
            yield (model.to(memory_format=torch.channels_last) if last else model), last
        finally:
            model.to(home)
            if convs and not was_channels_last:
                model.to(memory_format=torch.contiguous_format)
