"""Features of every convolutional block, pooled, for probing any of the jigsaw networks.

A block ends at each max-pool of the network's `features` (and at the end of `features` when
it does not end in a pool). Its output map is averaged over space, so a probe sees what the
block detects wherever it is; early blocks hold colour and texture, later ones parts and
layout. Which block serves a labelled task best differs between trained and random networks,
so the probe chooses it on a validation split of the probe's own training images.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from convlens.engine.forward import batched
from convlens.errors import ConvlensError
from convlens.jigsaw.evaluation.inference import normalise
from convlens.runtime import Runtime


def block_ends(model: nn.Module) -> list[int]:
    """The positions in `model.features` of the modules that end each convolutional block."""
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential):
        raise ConvlensError(f"{type(model).__name__} has no `features` stack to probe by block")
    ends = [i for i, m in enumerate(features) if isinstance(m, nn.MaxPool2d)]
    if not isinstance(features[-1], nn.MaxPool2d):
        ends.append(len(features) - 1)
    return ends


def inference_copy(features: nn.Sequential, ends: list[int]) -> tuple[list[nn.Module], list[int]]:
    """An eval-mode copy of `features` for inference only, each convolution folded together
    with the batch norm after it, and the block ends' positions in the copy. Folding saves a
    pass over every feature map; the outputs agree with the unfolded ones to float32 rounding."""
    layers, positions, i = [], [], 0
    original = list(copy.deepcopy(features).eval())
    while i < len(original):
        m = original[i]
        if (
            isinstance(m, nn.Conv2d)
            and i + 1 < len(original)
            and isinstance(original[i + 1], nn.BatchNorm2d)
            and original[i + 1].track_running_stats
            and i not in ends
        ):
            m, i = fuse_conv_bn_eval(m, original[i + 1]), i + 1
        layers.append(m)
        if i in ends:
            positions.append(len(layers) - 1)
        i += 1
    return layers, positions


def block_features(
    model: nn.Module,
    images: np.ndarray,
    *,
    batch_size: int = 64,  # smaller feature maps stay in cache
    runtime: Runtime = Runtime(),
) -> dict[str, np.ndarray]:
    """{'block1': N x C1, ...}: each block's output averaged over space, in eval mode, from one
    pass of the whole (unshuffled) images through `features`. It runs on a folded copy in
    channels_last (x1.13 against hooks on the model, `bench_probe_speed.py --features`); the
    model itself is not touched. Only `runtime`'s device and progress bar apply: the folded
    copy computes in fp32 in one process."""
    layers, ends = inference_copy(model.features, block_ends(model))
    stack = nn.Sequential(*layers)

    def blocks(m: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
        pooled = []
        for i, layer in enumerate(m):
            x = layer(x)
            if i in ends:
                pooled.append(x.float().mean((2, 3)))
        return pooled

    parts = batched(
        stack,
        images,
        blocks,
        batch_size=batch_size,
        prepare=normalise,
        runtime=runtime.but(precision="fp32", distributed=None),
        purpose="forward",
        desc="block features",
    )
    return {f"block{j + 1}": part.numpy() for j, part in enumerate(parts)}
