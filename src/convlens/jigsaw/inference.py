"""The de-shuffling network's predictions: normalisation and batched log-probabilities over
the 24 orders, in eval mode (sharded over the ranks under torchrun)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from convlens.data.transforms import normalize
from convlens.distributed import sharded_rows
from convlens.jigsaw.permutations import NUM_PERMUTATIONS
from convlens.runtime import LOW_PRECISIONS, autocast, placed, resolve_precision


def normalise(images_uint8: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W uint8 -> float normalised with the ImageNet statistics."""
    return normalize(images_uint8.float().div_(255.0))


@torch.no_grad()
def predict_log_probs(
    model,
    shuffled: np.ndarray | torch.Tensor,
    batch_size: int = 256,
    device="cpu",
    precision: str = "fp32",
    progress: bool = False,
    distributed=None,
) -> torch.Tensor:
    """N x 24 log-probabilities over permutation classes, in eval mode (sharded over the
    ranks under torchrun, gathered in order)."""
    device = torch.device(device)
    images = torch.as_tensor(shuffled)

    def rows(indices: np.ndarray) -> torch.Tensor:
        out = [torch.empty(0, NUM_PERMUTATIONS)]
        for start in tqdm(
            range(0, len(indices), batch_size), desc="predict", disable=not progress, leave=False
        ):
            x = normalise(images[indices[start : start + batch_size]].to(device))
            if resolve_precision(device, precision) in LOW_PRECISIONS:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast(device, precision):
                out.append(torch.log_softmax(model(x).float(), 1).cpu())
        return torch.cat(out)

    with placed(model, device, precision):
        return sharded_rows(rows, len(images), distributed)
