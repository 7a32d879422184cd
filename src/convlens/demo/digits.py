"""A small VGG-style classifier trained on scikit-learn's 1,797 real handwritten digits.

It stands in for VGG16 when the ImageNet weights are absent: it has VGG's structure (3x3
convolutions, in-place ReLUs, max-pools, a fully connected head with dropout), trains in
seconds on a CPU, and its class visualisations are recognisable digits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from convlens.engine.train_step import TrainStep
from convlens.models.vgg import VGG, make_features
from convlens.progress import progress_bar
from convlens.seeding import seeded

SIZE = 32
MEAN, STD = 0.33, 0.42  # of the upscaled digits in [0, 1]


@dataclass
class DigitsData:
    x_train: torch.Tensor  # N x 1 x 32 x 32, normalised
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    names: list[str]


def load_digits_data(seed: int = 0, test_fraction: float = 0.25) -> DigitsData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    x = (x - MEAN) / STD
    y = torch.from_numpy(digits.target).long()
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    n_test = int(len(y) * test_fraction)
    test, train = perm[:n_test], perm[n_test:]
    return DigitsData(x[train], y[train], x[test], y[test], [str(d) for d in range(10)])


def digits_vgg(dropout: float = 0.5) -> VGG:
    features = make_features([16, 16, "M", 32, 32, "M", 64, "M"], batch_norm=False, in_channels=1)
    model = VGG(features, num_classes=10, dropout=dropout, input_size=SIZE, hidden=128, pool_size=2)
    # VGG's N(0, 0.01) head init is tuned for a 4096-wide head; this small one trains far
    # faster from PyTorch's default (Kaiming-uniform) init.
    for m in model.classifier:
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return model


def to_display(x: torch.Tensor) -> np.ndarray:
    """Normalised B x 1 x H x W -> B x H x W in [0, 1]."""
    return (x.detach().float().cpu()[:, 0] * STD + MEAN).clamp(0, 1).numpy()


def train_digits_classifier(
    seed: int = 0, epochs: int = 20, batch_size: int = 64, progress: bool = False
) -> tuple[VGG, DigitsData, dict]:
    """Train with Adam; returns (model in eval mode, data, metrics)."""
    data = load_digits_data(seed)
    gen = torch.Generator().manual_seed(seed)  # the batches' order
    n = len(data.y_train)
    losses = []
    with seeded(seed):  # the initial weights and the dropout masks
        model = digits_vgg()
        # the library's one step, in the contiguous layout: 32 x 32 digits gain nothing from another
        step = TrainStep(model, torch.optim.Adam(model.parameters(), lr=3e-3))
        for _ in progress_bar(range(epochs), "digits classifier", progress):
            model.train()
            perm = torch.randperm(n, generator=gen)
            for start in range(0, n, batch_size):
                idx = perm[start : start + batch_size]
                losses.append(step(data.x_train[idx], data.y_train[idx])[0])
    model.eval()
    with torch.no_grad():
        acc = (model(data.x_test).argmax(1) == data.y_test).float().mean().item()
    return model, data, {"test_accuracy": acc, "final_loss": float(np.mean(losses[-10:]))}
