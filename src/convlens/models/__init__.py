"""Models: the VGG family and its weights."""

from convlens.models.vgg import (
    BUILDERS,
    VGG,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from convlens.models.weights import KNOWN_CHECKPOINTS, load_state_dict, load_weights

__all__ = [
    "BUILDERS",
    "KNOWN_CHECKPOINTS",
    "VGG",
    "load_state_dict",
    "load_weights",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
]
