"""The de-shuffling network's predictions: normalisation and batched log-probabilities over
the 24 orders, alone or with test-time augmentation, in eval mode (sharded over the ranks
under torchrun)."""

from __future__ import annotations

import numpy as np
import torch

from convlens.data.transforms import normalize
from convlens.engine.forward import batched
from convlens.jigsaw.puzzle.permutations import COMPOSE, NUM_PERMUTATIONS, PERMUTATIONS
from convlens.jigsaw.puzzle.tiles import shuffle
from convlens.runtime import Runtime


def normalise(images_uint8: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W uint8 -> float normalised with the ImageNet statistics."""
    return normalize(images_uint8.float().div_(255.0))


def predict_log_probs(
    model,
    shuffled: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 256,
    runtime: Runtime = Runtime(),
) -> torch.Tensor:
    """N x 24 log-probabilities over permutation classes, in eval mode (sharded over the
    ranks under torchrun, gathered in order)."""
    out = _over_batches(
        model,
        shuffled,
        lambda m, x: torch.log_softmax(m(x).float(), 1),
        "predict",
        batch_size,
        runtime,
    )
    return out if len(out) else torch.empty(0, NUM_PERMUTATIONS)


def predict_with_tta(
    model,
    shuffled: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 256,
    runtime: Runtime = Runtime(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """(plain, tta): the network's N x 24 log-probabilities, and their average over all 24
    re-shuffles of each image, from one batched pass in which each batch is re-shuffled on the
    device (the identity view is the plain prediction, computed once).

    If x = shuffle(original, s), then shuffle(x, p) = shuffle(original, s[p]) (COMPOSE[s, p]),
    so the network's log-probability of class COMPOSE[s, p] for the re-shuffled image is
    evidence for s. The 24 views are averaged in log space.
    """
    compose = torch.from_numpy(COMPOSE)  # [s, p]

    def plain_and_tta(m, x):
        plain = torch.log_softmax(m(x).float(), 1)
        total = plain.clone()  # view 0 is the identity order: COMPOSE[s, 0] = s
        layout = torch.channels_last if _is_channels_last(x) else torch.contiguous_format
        for p in range(1, NUM_PERMUTATIONS):
            view = shuffle(x, np.repeat(PERMUTATIONS[p : p + 1], len(x), axis=0))
            lp = torch.log_softmax(m(view.contiguous(memory_format=layout)).float(), 1)
            total += lp[:, compose[:, p].to(lp.device)]
        # one tensor per batch (plain | tta), so sharding over ranks gathers it like any other
        return torch.cat([plain, torch.log_softmax(total / NUM_PERMUTATIONS, 1)], 1)

    both = _over_batches(
        model,
        shuffled,
        plain_and_tta,
        "predict with test-time augmentation (24 views)",
        batch_size,
        runtime,
    )
    if not len(both):
        empty = torch.empty(0, NUM_PERMUTATIONS)
        return empty, empty
    return both[:, :NUM_PERMUTATIONS], both[:, NUM_PERMUTATIONS:]


def _over_batches(model, shuffled, fn, desc: str, batch_size: int, runtime: Runtime):
    return batched(
        model,
        torch.as_tensor(shuffled),
        fn,
        batch_size=batch_size,
        prepare=normalise,
        runtime=runtime,
        desc=desc,
    )


def _is_channels_last(x: torch.Tensor) -> bool:
    return (
        x.ndim == 4
        and x.is_contiguous(memory_format=torch.channels_last)
        and not (x.is_contiguous())
    )
