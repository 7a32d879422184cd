"""How many images a method may push through the model at once, from the memory at hand, so
that Integrated Gradients' steps x images and occlusion's windows never run out of memory and
need no flag (Captum's users meet out-of-memory here until they find internal_batch_size)."""

from __future__ import annotations

import os

import torch
from torch import nn

# Of the memory available now, the share one method's batch may take (the rest: the model, the
# caller's tensors, the allocator's slack)
SHARE = 0.25
MAX_CHUNK = 256  # beyond this a batch is no faster on a CPU, and a progress bar moves too rarely


def available_bytes(device: torch.device) -> int:
    """Free memory on `device`: the GPU's free bytes, or the system's MemAvailable."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    pages = os.sysconf("SC_AVPHYS_PAGES") if hasattr(os, "sysconf") else 0
    return int(pages * os.sysconf("SC_PAGE_SIZE")) if pages else 4 << 30


def bytes_per_image(model: nn.Module, shape: tuple[int, ...], gradients: bool) -> int:
    """What one image costs: every module's output over one forward pass (kept for the backward
    pass where `gradients`, which about doubles it), in the model's dtype."""
    total = [0]

    def count(module, inputs, output):
        if isinstance(output, torch.Tensor):
            total[0] += output.numel() * output.element_size()

    handles = [m.register_forward_hook(count) for m in model.modules() if m is not model]
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        with torch.no_grad():
            model(torch.zeros(1, *shape, device=device))
    finally:
        for h in handles:
            h.remove()
    return max(1, total[0] * (3 if gradients else 1))


def chunk_size(model: nn.Module, shape: tuple[int, ...], gradients: bool) -> int:
    """Images per pass that fit SHARE of the memory available now (1 to MAX_CHUNK)."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    fit = int(SHARE * available_bytes(device) // bytes_per_image(model, shape, gradients))
    return max(1, min(MAX_CHUNK, fit))
