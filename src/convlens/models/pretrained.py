"""Build a model and load its weights in one call, as the commands need it."""

from __future__ import annotations

import warnings

from convlens.errors import ConvlensError
from convlens.models.vgg import BUILDERS
from convlens.models.weights import load_weights
from convlens.seeding import seeded

RANDOM = "random"


def pretrained(arch: str = "vgg16", weights: str | None = None, seed: int = 0, **kwargs):
    """`arch` with `weights` (a file, a known name, or "random" for seeded random weights).

    With weights=None the torchvision checkpoint of the same name is used.
    """
    if arch not in BUILDERS:
        raise ConvlensError(f"unknown architecture {arch!r}; expected one of {sorted(BUILDERS)}")
    if weights == RANDOM:
        warnings.warn("random weights: predictions carry no meaning", stacklevel=2)
        with seeded(seed):
            return BUILDERS[arch](**kwargs).eval()
    model = BUILDERS[arch](init_weights=False, **kwargs)
    return load_weights(model, weights or arch).eval()


def load_classifier(
    arch: str, weights: str | None, *, seed: int = 0, device: str = "auto", precision: str = "fp32"
):
    """`pretrained` for the commands: the device and precision are checked before the (slow)
    model is built, and the random-weights warning is left to the caller (the CLI says it
    once, after its output)."""
    from convlens.runtime import check_precision, resolve_device

    check_precision(resolve_device(device), precision)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pretrained(arch, weights, seed=seed)
