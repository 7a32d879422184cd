"""A VGG's sizes counted from the model itself (layers, widths, parameters, multiply-adds), so
the report states the network it describes instead of numbers typed into its prose."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from convlens.models.vgg import VGG, vgg16


@dataclass(frozen=True)
class VGGSizes:
    conv_layers: int
    block_widths: list[int]  # output channels of each block (a block ends in a max-pool)
    input_size: int
    grid: int  # side of the pooled map the classifier reads
    hidden: list[int]  # widths of the fully connected layers, the class scores last
    dropout: float
    parameters: int
    head_parameters: int  # the fully connected layers
    first_fc_parameters: int
    gmacs: float  # multiply-adds per image, in billions
    conv_share: float  # the convolutions' share of the multiply-adds


def vgg_sizes(model: VGG, input_size: int = 224) -> VGGSizes:
    """Counted from `model` (a meta-device model does: no weights are read)."""
    side, widths, macs_conv, convs = input_size, [], 0, 0
    for m in model.features:
        if isinstance(m, nn.Conv2d):
            convs += 1
            macs_conv += side * side * m.out_channels * m.in_channels * 9
            channels = m.out_channels
        elif isinstance(m, nn.MaxPool2d):
            side //= 2
            widths.append(channels)
    linears = [m for m in model.classifier if isinstance(m, nn.Linear)]
    macs_fc = sum(m.in_features * m.out_features for m in linears)
    dropout = next(m.p for m in model.classifier if isinstance(m, nn.Dropout))
    return VGGSizes(
        conv_layers=convs,
        block_widths=widths,
        input_size=input_size,
        grid=model.avgpool.output_size[0],
        hidden=[m.out_features for m in linears],
        dropout=dropout,
        parameters=sum(p.numel() for p in model.parameters()),
        head_parameters=sum(p.numel() for m in linears for p in m.parameters()),
        first_fc_parameters=sum(p.numel() for p in linears[0].parameters()),
        gmacs=(macs_conv + macs_fc) / 1e9,
        conv_share=macs_conv / (macs_conv + macs_fc),
    )


def meta_vgg16_sizes() -> VGGSizes:
    """VGG16's sizes at 224 px, from a model on the meta device (no memory for weights)."""
    with torch.device("meta"):
        return vgg_sizes(vgg16(init_weights=False))
