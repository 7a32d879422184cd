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

# Untimed steps before the timed ones: oneDNN sets up its kernels in the first step and the
# second still ran 1.3x a steady one (the CFN held to AVX2: 0.365, 0.179, then 0.12-0.16 s)
WARM_UP = 2


def epoch_seconds(
    originals: np.ndarray,
    n_images: int,
    cfg: TrainConfig,
    steps: int = 5,
    runtime: Runtime = Runtime(),
) -> tuple[float, float]:
    """Seconds per epoch of `cfg` on `n_images` training images (validation included), from
    the median of `steps` timed steps after WARM_UP untimed ones, on batches cut from
    `originals` (restored uint8 images, N x 3 x H x W), and seconds per image of inference
    (its second call: the first sets up its kernels too). The weights it trains are thrown
    away; the caller's random state is left as it was. Only `runtime`'s device applies: the
    run's precision is its own setting."""
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
        total = WARM_UP + steps
        batches = [np.arange(i * batch, (i + 1) * batch) % n for i in range(total)]
        data = EpochBatches(torch.as_tensor(originals), order, classes, params, batches)
        model.train()
        times = []
        for k in range(total):
            start = time.perf_counter()
            step(*data[k])
            times.append(time.perf_counter() - start)
        seconds = float(np.median(times[WARM_UP:]))
        judged = step.average.module if step.average is not None else model
        inference = Runtime(device, cfg.precision)
        for _ in range(2):  # the second call is timed
            start = time.perf_counter()
            predict_log_probs(judged, originals[:batch], runtime=inference)
            forward = time.perf_counter() - start
    # scaled by images rather than batches: a smaller measured batch costs less per step
    per_image = forward / batch
    return steps_per_epoch * seconds * cfg.batch_size / batch + n_val * per_image, per_image
