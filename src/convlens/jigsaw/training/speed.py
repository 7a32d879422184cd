"""How long one training epoch of a de-shuffling network takes on this machine, measured before
training starts: a few real steps (the epoch's own batch building, forward, backward, AdamW),
timed after a warm-up step, scaled to the epoch, plus the validation pass. The report plans
its budget and prints its estimate from these numbers (convlens.problem3.budget)."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from convlens.jigsaw.evaluation.inference import predict_log_probs
from convlens.jigsaw.networks.model import build_model
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.epoch_data import EpochBatches, epoch_plan
from convlens.jigsaw.training.train import train_layout
from convlens.runtime import Runtime, autocast


def epoch_seconds(
    originals: np.ndarray,
    n_images: int,
    cfg: TrainConfig,
    steps: int = 3,
    runtime: Runtime = Runtime(),
) -> tuple[float, float]:
    """Seconds per epoch of `cfg` on `n_images` training images (validation included), from
    `steps` timed steps on batches cut from `originals` (restored uint8 images, N x 3 x H x W),
    and seconds per image of inference. The weights it trains are thrown away; the caller's
    random state is left as it was. Only `runtime`'s device applies: the run's precision is
    its own setting."""
    device = runtime.device
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        model, channels_last = train_layout(build_model(cfg.model), cfg, device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr * 1e-3)
        rng = np.random.default_rng(cfg.seed)
        n = len(originals)
        order, classes, params = epoch_plan(n, cfg, rng)
        batch = min(cfg.batch_size, n)
        batches = [np.arange(i * batch, (i + 1) * batch) % n for i in range(steps + 1)]
        data = EpochBatches(torch.as_tensor(originals), order, classes, params, batches)
        model.train()
        times = []
        for k in range(steps + 1):
            start = time.perf_counter()
            x, y = data[k]
            x = x.to(device)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast(device, cfg.precision):
                logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits.float(), y.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
        step = float(np.median(times[1:]))  # the first step pays for oneDNN's setup
        start = time.perf_counter()
        predict_log_probs(model, originals[:batch], runtime=Runtime(device, cfg.precision))
        forward = time.perf_counter() - start
    n_val = n_images * cfg.val_fraction
    steps_per_epoch = math.ceil((n_images - n_val) * cfg.shuffles / cfg.batch_size)
    # scaled by images rather than batches: a smaller measured batch costs less per step
    per_image = forward / batch
    return steps_per_epoch * step * cfg.batch_size / batch + n_val * per_image, per_image
