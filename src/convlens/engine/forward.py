"""The one loop every pass over many images goes through, and its gradient-enabled twin.

Prediction (convlens.predict, hence 2b and 2d), Monte Carlo dropout's deterministic pass, the
deletion curves' frames, the de-shuffling network's log-probabilities
(convlens.jigsaw.evaluation.inference), the probe's features and block features
(convlens.probe) all need the same things around their forward pass: the model in eval mode on
the device and back where it was afterwards, the layout convlens.engine.layout decides,
autocast for bf16, a progress bar, float32 results on the CPU, and under torchrun a contiguous
share of the rows per rank, gathered in order. The attribution methods' batches
(`batched_gradients`) keep the model where it is, in fp32, with gradients on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from convlens.distributed import sharded_rows
from convlens.engine.layout import as_layout, placed
from convlens.progress import progress_bar
from convlens.runtime import Runtime, autocast

Output = torch.Tensor | Sequence[torch.Tensor]


@torch.no_grad()
def batched(
    model: nn.Module,
    inputs: torch.Tensor | np.ndarray | Iterable,
    fn: Callable[[nn.Module, torch.Tensor], Output] | None = None,
    *,
    batch_size: int = 64,
    prepare: Callable[[torch.Tensor], torch.Tensor] | None = None,
    runtime: Runtime = Runtime(),
    purpose: str = "inference",
    desc: str = "inference",
    total: int | None = None,
    on_device: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """`fn(model, batch)` (default `model(batch)`) over `inputs` in batches, concatenated.

    `inputs` is a tensor or array with one row per input (cut into `batch_size` rows, and
    sharded over the ranks under torchrun), or an iterable of ready batches such as a
    DataLoader. `prepare` turns a batch on the device into the model's input (uint8 pixels into
    normalised floats, say). `runtime` says where, in which precision, with or without a
    progress bar and over which ranks; `purpose` which layout the model and images take
    (convlens.engine.layout: "forward" for passes whose layout is free). When `fn` returns
    several tensors per batch, the result is a tuple of their concatenations; `total` is the
    number of ready batches where `inputs` cannot say; `on_device` keeps the results on the
    device (in their own dtype) for a next pass there."""
    device, precision, distributed = runtime.device, runtime.precision, runtime.distributed
    forward = fn or (lambda m, x: m(x))

    def kept(t: torch.Tensor) -> torch.Tensor:
        return t if on_device else t.float().cpu()

    def run(m: nn.Module, batches: Iterable, total: int | None) -> list:
        out = []
        for raw in progress_bar(batches, desc, runtime.progress, total):
            x = torch.as_tensor(raw).to(device, non_blocking=True)
            if prepare is not None:
                x = prepare(x)
            x = as_layout(x, last)
            with autocast(device, precision):
                y = forward(m, x)
            out.append(kept(y) if isinstance(y, torch.Tensor) else tuple(kept(t) for t in y))
        return out

    with placed(model, device, precision, purpose) as (m, last):
        if isinstance(inputs, torch.Tensor | np.ndarray):

            def rows(indices: np.ndarray):
                first = int(indices[0]) if len(indices) else 0  # a rank's share is contiguous
                starts = range(first, first + len(indices), batch_size)
                batches = (inputs[s : min(s + batch_size, first + len(indices))] for s in starts)
                return _concatenate(run(m, batches, len(starts)))

            if distributed is None:
                return rows(np.arange(len(inputs)))
            return sharded_rows(rows, len(inputs), distributed)
        if total is None and hasattr(inputs, "__len__"):
            total = len(inputs)
        return _concatenate(run(m, inputs, total))


def batched_gradients(
    fn: Callable[[torch.Tensor, torch.Tensor, int], Output],
    images: torch.Tensor,
    targets: torch.Tensor,
    *,
    batch_size: int = 16,
    runtime: Runtime = Runtime(),
    desc: str = "attributions",
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """`fn(images_batch, targets_batch, i)` for batch i of `batch_size` images and their
    targets, concatenated on the CPU: the attribution methods' loop. It changes nothing about
    the model (each method works where the model and images are, in fp32, and restores what it
    touches); only `runtime`'s progress bar applies."""
    batches = list(zip(images.split(batch_size), targets.split(batch_size), strict=True))
    out = []
    for i, (x, t) in enumerate(progress_bar(batches, desc, runtime.progress)):
        y = fn(x, t, i)
        out.append(y.cpu() if isinstance(y, torch.Tensor) else tuple(v.cpu() for v in y))
    return _concatenate(out)


def _concatenate(parts: list) -> torch.Tensor | tuple[torch.Tensor, ...]:
    if not parts:
        return torch.empty(0)
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts)
    return tuple(torch.cat(column) for column in zip(*parts, strict=True))
