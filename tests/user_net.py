"""A user's own classifier as a file the tests write: not a VGG (a residual addition,
functional activations, batch norm); `build` with ReLU, `gelu` and `gelu_dropout` without, and
`not_a_model`, which returns no module."""

NET = """
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self, act=F.relu, dropout=0.0):
        super().__init__()
        self.act = act
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        x = self.act(x + self.conv2(x))
        return self.fc(self.drop(x.mean((2, 3))))


def build():
    return Net()


def gelu():
    return Net(act=F.gelu)


def gelu_dropout():
    return Net(act=F.gelu, dropout=0.3)


def not_a_model():
    return 7
"""
