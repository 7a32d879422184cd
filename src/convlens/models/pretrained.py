"""Build a model and load its weights in one call, as the commands need it."""

from __future__ import annotations

import warnings

import torch

from convlens.errors import ConvlensError
from convlens.models.vgg import BUILDERS
from convlens.models.weights import load_weights

RANDOM = "random"


def pretrained(arch: str = "vgg16", weights: str | None = None, seed: int = 0, **kwargs):
    """`arch` with `weights` (a file, a known name, or "random" for seeded random weights).

    With weights=None the torchvision checkpoint of the same name is used.
    """
    if arch not in BUILDERS:
        raise ConvlensError(f"unknown architecture {arch!r}; expected one of {sorted(BUILDERS)}")
    if weights == RANDOM:
        torch.manual_seed(seed)
        warnings.warn("random weights: predictions carry no meaning", stacklevel=2)
        return BUILDERS[arch](**kwargs).eval()
    model = BUILDERS[arch](init_weights=False, **kwargs)
    return load_weights(model, weights or arch).eval()
