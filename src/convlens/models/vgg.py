"""The VGG family (Simonyan & Zisserman 2015), module-for-module compatible with torchvision.

The configuration table is the architecture: numbers are 3x3 convolutions with that many output
channels, "M" is a 2x2 max-pool. The module tree (`features`, `avgpool`, `classifier`) fixes
the state-dict keys, so torchvision's published checkpoints load with strict=True.
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.errors import ConvlensError

CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [
        64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
    ],
    "vgg19": [
        64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
        512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
    ],
}  # fmt: skip


def make_features(
    config: list[int | str], batch_norm: bool, *, in_channels: int = 3, width: float = 1.0
) -> nn.Sequential:
    """`width` scales every layer's channels (1.0 = the published network)."""
    layers: list[nn.Module] = []
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        out = max(1, round(int(item) * width))
        layers.append(nn.Conv2d(in_channels, out, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU(inplace=True))
        in_channels = out
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """features -> avgpool -> flatten -> classifier (fc-relu-dropout, fc-relu-dropout, fc).

    `pool_size` overrides the pooled grid for feature stacks with fewer than five pools.

    `input_size` sets the pooled grid: 224 gives torchvision's 7x7 (25,088 inputs to the first
    fully connected layer); a 96x96 jigsaw input gives 3x3, which avoids the 5x upsampling an
    adaptive pool to 7x7 would do on a 3x3 map and keeps the head 5x smaller.
    """

    def __init__(
        self,
        features: nn.Sequential,
        num_classes: int = 1000,
        dropout: float = 0.5,
        input_size: int = 224,
        hidden: int = 4096,
        init_weights: bool = True,
        pool_size: int | None = None,
    ):
        super().__init__()
        if input_size < 32 or input_size % 32:
            raise ConvlensError(f"input_size must be a multiple of 32 and >= 32, got {input_size}")
        if not 0.0 <= dropout < 1.0:
            raise ConvlensError(f"dropout must be in [0, 1), got {dropout}")
        grid = pool_size or min(7, input_size // 32)
        channels = [m for m in features if isinstance(m, nn.Conv2d)][-1].out_channels
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((grid, grid))
        self.classifier = nn.Sequential(
            nn.Linear(channels * grid * grid, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),
        )
        if init_weights:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        # torchvision's initialisation: He for convolutions, N(0, 0.01) for linear layers.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled convolutional features, flattened: the input of the classifier."""
        return torch.flatten(self.avgpool(self.features(x)), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.forward_features(x))


def vgg(name: str, *, batch_norm: bool = False, width: float = 1.0, **kwargs) -> VGG:
    if name not in CONFIGS:
        raise ConvlensError(f"unknown VGG {name!r}; expected one of {sorted(CONFIGS)}")
    return VGG(make_features(CONFIGS[name], batch_norm, width=width), **kwargs)


def vgg11(**kw) -> VGG:
    return vgg("vgg11", **kw)


def vgg11_bn(**kw) -> VGG:
    return vgg("vgg11", batch_norm=True, **kw)


def vgg13(**kw) -> VGG:
    return vgg("vgg13", **kw)


def vgg13_bn(**kw) -> VGG:
    return vgg("vgg13", batch_norm=True, **kw)


def vgg16(**kw) -> VGG:
    return vgg("vgg16", **kw)


def vgg16_bn(**kw) -> VGG:
    return vgg("vgg16", batch_norm=True, **kw)


def vgg19(**kw) -> VGG:
    return vgg("vgg19", **kw)


def vgg19_bn(**kw) -> VGG:
    return vgg("vgg19", batch_norm=True, **kw)


BUILDERS = {
    f.__name__: f for f in (vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn)
}
