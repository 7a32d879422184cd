"""The one seeding rule: library code never sets the global random state. It forks it (the
caller's state is as it was afterwards) or takes a Generator; only a command's entry point seeds
the global generators (`seed_everything`), for code we do not own."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None):
    """torch's global generator (and `device`'s, where it is CUDA) seeded with `seed` for the
    block, and restored afterwards."""
    cuda = [device] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield


def random_classes(seed: int, num_classes: int, count: int) -> list[int]:
    """`count` distinct classes of `num_classes`, sorted, the same for the same seed: the exam's
    "pick random classes" for every caller (the report's class models, `convlens explain`)."""
    return sorted(random.Random(seed).sample(range(num_classes), count))


def seed_everything(seed: int) -> torch.Generator:
    """For a command's entry point only: Python's, numpy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - code we do not own may use the global RNG
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
