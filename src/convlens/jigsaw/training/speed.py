"""How long one training epoch of a de-shuffling network takes on this machine, measured before
training starts: a few real steps, the very step training runs (the epoch's own batch building,
then convlens.jigsaw.training.train.training_step: forward, label-smoothed loss, backward, AdamW,
its schedule, the moving average), timed after a warm-up step, scaled to the epoch, plus the
validation pass. The report plans its budget and prints its estimate from these numbers
(convlens.problem3.budget)."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from convlens.jigsaw.evaluation.inference import predict_log_probs
from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.epoch_data import EpochBatches, epoch_plan
from convlens.jigsaw.training.train import training_step
from convlens.runtime import Runtime
from convlens.seeding import seeded


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
    n_val = n_images * cfg.val_fraction
    steps_per_epoch = math.ceil((n_images - n_val) * cfg.shuffles / cfg.batch_size)
    with seeded(cfg.seed, device):
        model = build_model(cfg.model)
        step = training_step(model, cfg, device, steps_per_epoch)
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
            step(*data[k])
            times.append(time.perf_counter() - start)
        seconds = float(np.median(times[1:]))  # the first step pays for oneDNN's setup
        judged = step.average.module if step.average is not None else model
        start = time.perf_counter()
        predict_log_probs(judged, originals[:batch], runtime=Runtime(device, cfg.precision))
        forward = time.perf_counter() - start
    # scaled by images rather than batches: a smaller measured batch costs less per step
    per_image = forward / batch
    return steps_per_epoch * seconds * cfg.batch_size / batch + n_val * per_image, per_image
