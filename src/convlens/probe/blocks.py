"""Features of every convolutional block, pooled, for probing any of the jigsaw networks.

A block ends at each max-pool of the network's `features` (and at the end of `features` when
it does not end in a pool). Its output map is averaged over space, so a probe sees what the
block detects wherever it is; early blocks hold colour and texture, later ones parts and
layout. Which block serves a labelled task best differs between trained and random networks,
so the probe chooses it on a validation split of the probe's own training images.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from convlens.errors import ConvlensError
from convlens.jigsaw.inference import normalise
from convlens.runtime import placed


def block_ends(model: nn.Module) -> list[nn.Module]:
    """The modules whose outputs end each convolutional block, in order."""
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential):
        raise ConvlensError(f"{type(model).__name__} has no `features` stack to probe by block")
    ends = [m for m in features if isinstance(m, nn.MaxPool2d)]
    if not isinstance(features[-1], nn.MaxPool2d):
        ends.append(features[-1])
    return ends


@torch.no_grad()
def block_features(
    model: nn.Module,
    images: np.ndarray,
    batch_size: int = 128,
    device="cpu",
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """{'block1': N x C1, ...}: each block's output averaged over space, in eval mode, from one
    pass of the whole (unshuffled) images through `features`."""
    ends = block_ends(model)
    device = torch.device(device)
    caught: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: caught.append(out)) for m in ends]
    out: list[list[torch.Tensor]] = [[] for _ in ends]
    try:
        with placed(model, device, "fp32"):
            batches = range(0, len(images), batch_size)
            for start in tqdm(batches, desc="block features", disable=not progress, leave=False):
                x = normalise(torch.as_tensor(images[start : start + batch_size]).to(device))
                caught.clear()
                model.features(x)
                for j, fmap in enumerate(caught):
                    out[j].append(fmap.float().mean((2, 3)).cpu())
    finally:
        for h in hooks:
            h.remove()
    return {f"block{j + 1}": torch.cat(parts).numpy() for j, parts in enumerate(out)}
