"""Classifiers the tests explain that are not VGGs: a small ResNet (residual additions, the
functional relu, batch norm), one whose activation is GELU, and one with several heads."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TinyResNet(nn.Module):
    def __init__(self, classes: int = 5, inplace: bool = False):
        super().__init__()
        self.inplace = inplace
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv_a, self.bn_a = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv_b, self.bn_b = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)), inplace=self.inplace)
        y = F.relu(self.bn_a(self.conv_a(x)), inplace=self.inplace)
        x = F.relu(x + self.bn_b(self.conv_b(y)), inplace=self.inplace)  # the residual path
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class GeluNet(nn.Module):
    def __init__(self, classes: int = 5):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        x = F.gelu(self.conv2(F.gelu(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


def trained_like(build, seed: int = 0) -> nn.Module:
    """`build()` with seeded weights and batch-norm statistics away from their defaults, in
    eval mode; the caller's random state is left as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build()
        return _moved_statistics(model).eval()


def _moved_statistics(model: nn.Module) -> nn.Module:
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
    return model
