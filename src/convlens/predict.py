"""Batched inference over images: logits, probabilities, top-k, accuracy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from convlens.data.images import ImageItem, read_image
from convlens.data.transforms import preprocess
from convlens.engine.forward import batched
from convlens.runtime import Runtime


class ImageDataset(Dataset):
    def __init__(self, items: Sequence[ImageItem], transform: Callable = preprocess):
        self.items = list(items)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.transform(read_image(self.items[i]))


def load_batch(items: Sequence[ImageItem], transform: Callable = preprocess) -> torch.Tensor:
    return torch.stack([transform(read_image(it)) for it in items])


def predict_logits(
    model: nn.Module,
    images: Sequence[ImageItem] | torch.Tensor,
    *,
    batch_size: int = 16,
    runtime: Runtime = Runtime(),
    transform: Callable = preprocess,
    workers: int = 0,
) -> torch.Tensor:
    """N x K float32 logits in the order of `images` (files, read and transformed in a
    DataLoader, or a preprocessed N x C x H x W batch), computed in eval mode."""
    if not isinstance(images, torch.Tensor):
        images = DataLoader(
            ImageDataset(images, transform),
            batch_size=batch_size,
            num_workers=workers,
            pin_memory=runtime.device.type == "cuda",
        )
    out = batched(model, images, batch_size=batch_size, runtime=runtime)
    return out if len(out) else torch.empty(0, 0)


@dataclass
class TopK:
    indices: torch.Tensor  # N x k
    probs: torch.Tensor  # N x k


def topk(logits: torch.Tensor, k: int = 5) -> TopK:
    probs = torch.softmax(logits.float(), dim=1)
    p, i = probs.topk(min(k, probs.shape[1]), dim=1)
    return TopK(i, p)


def accuracy_counts(logits: torch.Tensor, labels: torch.Tensor, ks=(1, 5)) -> dict[int, int]:
    """How many rows have their label among the k highest logits, for each k."""
    ranked = logits.topk(max(ks), dim=1).indices
    hits = ranked == labels.view(-1, 1)
    return {k: int(hits[:, :k].any(dim=1).sum()) for k in ks}
