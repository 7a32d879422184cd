"""The one home of leaving a model's train/eval flags as they were found: every context that
changes them (explanations, placement on a device, Monte Carlo dropout) restores them through
this one in `finally`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn


@contextlib.contextmanager
def modes_restored(model: nn.Module) -> Iterator[nn.Module]:
    """Every submodule's `training` flag, set back to what it was when the block ends."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield model
    finally:
        for m, was_training in modes:
            m.training = was_training
