"""Batched inference: the one loop every forward pass over many images goes through.

Prediction (convlens.predict), the de-shuffling network's log-probabilities
(convlens.jigsaw.evaluation.inference), the probe's features and block features
(convlens.probe) all need
the same things around their forward pass: the model in eval mode on the device and back where
it was afterwards, channels_last and autocast for bf16, a progress bar, float32 results on the
CPU, and under torchrun a contiguous share of the rows per rank, gathered in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from convlens.distributed import sharded_rows
from convlens.runtime import LOW_PRECISIONS, Runtime, autocast, placed

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
    channels_last: bool | None = None,
    desc: str = "inference",
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """`fn(model, batch)` (default `model(batch)`) over `inputs` in batches, concatenated.

    `inputs` is a tensor or array with one row per input (cut into `batch_size` rows, and
    sharded over the ranks under torchrun), or an iterable of ready batches such as a
    DataLoader. `prepare` turns a batch on the device into the model's input (uint8 pixels into
    normalised floats, say). `runtime` says where, in which precision, with or without a
    progress bar and over which ranks. Images go channels_last where the precision is low (or
    where `channels_last` says so). When `fn` returns several tensors per batch, the result is a
    tuple of their concatenations."""
    device, precision, distributed = runtime.device, runtime.precision, runtime.distributed
    low = runtime.resolved_precision in LOW_PRECISIONS
    layout = low if channels_last is None else channels_last
    forward = fn or (lambda m, x: m(x))

    def run(m: nn.Module, batches: Iterable, total: int | None) -> list:
        out = []
        for raw in tqdm(batches, total=total, desc=desc, disable=not runtime.progress, leave=False):
            x = torch.as_tensor(raw).to(device, non_blocking=True)
            if prepare is not None:
                x = prepare(x)
            if layout and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast(device, precision):
                y = forward(m, x)
            if isinstance(y, torch.Tensor):
                out.append(y.float().cpu())
            else:
                out.append(tuple(t.float().cpu() for t in y))
        return out

    with placed(model, device, precision) as m:
        if isinstance(inputs, torch.Tensor | np.ndarray):

            def rows(indices: np.ndarray):
                first = int(indices[0]) if len(indices) else 0  # a rank's share is contiguous
                starts = range(first, first + len(indices), batch_size)
                batches = (inputs[s : min(s + batch_size, first + len(indices))] for s in starts)
                return _concatenate(run(m, batches, len(starts)))

            if distributed is None:
                return rows(np.arange(len(inputs)))
            return sharded_rows(rows, len(inputs), distributed)
        total = len(inputs) if hasattr(inputs, "__len__") else None
        return _concatenate(run(m, inputs, total))


def _concatenate(parts: list) -> torch.Tensor | tuple[torch.Tensor, ...]:
    if not parts:
        return torch.empty(0)
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts)
    return tuple(torch.cat(column) for column in zip(*parts, strict=True))
