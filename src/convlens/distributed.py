"""Multi-process training with torch.distributed, as `torchrun` launches it.

`torchrun --nproc_per_node N -m convlens jigsaw train ...` sets RANK, WORLD_SIZE, LOCAL_RANK
and the rendezvous variables; `from_environment` joins the process group (gloo on the CPU,
nccl on CUDA). Each global batch is split between the ranks, DistributedDataParallel averages
the gradients, so N processes take exactly the steps one process would take with the same
global batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Distributed:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    def wrap(self, model: nn.Module) -> nn.Module:
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def local_slice(self, global_batch: np.ndarray) -> np.ndarray:
        """This rank's part of one global batch (contiguous, sizes differ by at most one)."""
        return np.array_split(global_batch, self.world_size)[self.rank]

    def all_reduce_sum(self, t: torch.Tensor) -> torch.Tensor:
        t = t.to(self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.cpu()

    def all_reduce_max(self, t: torch.Tensor) -> torch.Tensor:
        t = t.to(self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return t.cpu()

    def gather(self, t: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's tensor, in rank order (sizes may differ)."""
        objs: list = [None] * self.world_size
        dist.all_gather_object(objs, t.cpu())
        return objs

    def barrier(self) -> None:
        dist.barrier()


def from_environment(device: str = "auto") -> Distributed | None:
    """Join the process group torchrun describes, or None for a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return Distributed(rank, world, local, dev)


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def sharded_rows(fn, n: int, distributed: Distributed | None) -> torch.Tensor:
    """fn(indices) -> rows for those indices; each rank computes a contiguous part and every
    rank receives all n rows in the original order."""
    if distributed is None:
        return fn(np.arange(n))
    part = np.array_split(np.arange(n), distributed.world_size)[distributed.rank]
    return torch.cat(distributed.gather(fn(part)))
