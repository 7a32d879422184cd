"""The de-shuffling network's predictions: normalisation and batched log-probabilities over
the 24 orders, in eval mode (sharded over the ranks under torchrun)."""

from __future__ import annotations

import numpy as np
import torch

from convlens.batched import batched
from convlens.data.transforms import normalize
from convlens.jigsaw.permutations import NUM_PERMUTATIONS


def normalise(images_uint8: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W uint8 -> float normalised with the ImageNet statistics."""
    return normalize(images_uint8.float().div_(255.0))


def predict_log_probs(
    model,
    shuffled: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 256,
    device="cpu",
    precision: str = "fp32",
    progress: bool = False,
    distributed=None,
) -> torch.Tensor:
    """N x 24 log-probabilities over permutation classes, in eval mode (sharded over the
    ranks under torchrun, gathered in order)."""
    out = batched(
        model,
        torch.as_tensor(shuffled),
        lambda m, x: torch.log_softmax(m(x).float(), 1),
        batch_size=batch_size,
        prepare=normalise,
        device=device,
        precision=precision,
        progress=progress,
        desc="predict",
        distributed=distributed,
    )
    return out if len(out) else torch.empty(0, NUM_PERMUTATIONS)
