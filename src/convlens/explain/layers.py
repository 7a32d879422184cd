"""Naming a model's layers for the methods that read one (Grad-CAM): a layer by its name in
`named_modules()`, by default the last convolution; a name that is not there is one line
listing the convolutional layers that could be used."""

from __future__ import annotations

from torch import nn

from convlens.errors import ConvlensError


def conv_layers(model: nn.Module) -> list[str]:
    """The names of the model's 2-d convolutions, in the order they were registered."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def layer_named(model: nn.Module, name: str | None) -> tuple[str, nn.Module]:
    """(name, module): `name`'s module, or with None the last convolution."""
    convs = conv_layers(model)
    if name is None:
        if not convs:
            raise ConvlensError("the model has no convolutional layer for Grad-CAM to read")
        name = convs[-1]
    modules = dict(model.named_modules())
    if name not in modules or name == "":
        listed = ", ".join(convs[-8:]) + (" ..." if len(convs) > 8 else "")
        raise ConvlensError(
            f"--layer {name!r}: no such layer; the convolutional layers are {listed or 'none'}"
        )
    return name, modules[name]
