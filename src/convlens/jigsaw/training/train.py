"""Training the de-shuffling network, readable top to bottom: the split, the model, the
optimiser, the loop, validation after every epoch (the epoch's data:
convlens.jigsaw.training.epoch_data; the run folder, resuming and checkpoints:
convlens.jigsaw.training.run_folder)."""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path
from time import perf_counter as _batch_clock  # batch timing; `time` is the epoch's

import numpy as np
import torch

from convlens import atomic
from convlens.engine import layout
from convlens.engine.train_step import TrainStep
from convlens.errors import ConvlensError
from convlens.jigsaw.evaluation.inference import predict_log_probs
from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.puzzle.splits import fixed_shuffles, labelled_digest, validation_split
from convlens.jigsaw.puzzle.tiles import deshuffle
from convlens.jigsaw.run_records import TrainResult
from convlens.jigsaw.training.config import TrainConfig, check_images, config_dict
from convlens.jigsaw.training.epoch_data import epoch_loader
from convlens.jigsaw.training.run_folder import CONFIG, RunState, run_folder, schedule
from convlens.progress import progress_bar
from convlens.runtime import Runtime, check_precision
from convlens.seeding import seeded


def train(
    train_images: np.ndarray,
    train_orders: np.ndarray,
    run_dir: str | Path,
    cfg: TrainConfig | None = None,
    *,
    resume: bool = False,
    runtime: Runtime = Runtime(),
    groups: np.ndarray | None = None,
    epoch_probe=None,
    source: str = "",
) -> TrainResult:
    """Train on shuffled images with known orders; returns the history, the best validation
    accuracy, the epochs planned and why training stopped ("epochs", "budget" when
    cfg.minutes planned fewer epochs than cfg.epochs, or "perfect" after cfg.patience epochs
    of perfect validation accuracy).

    `groups` (one label per image, e.g. its source photograph) makes the validation split
    hold out whole groups; the validation rows are kept in every checkpoint, so evaluation
    fits the seam score on exactly the images training held out. `epoch_probe(model) -> dict`
    (e.g. convlens.probe.curve.FeatureCurve) runs after every epoch on rank 0; its numbers
    join the epoch's line in the history. `runtime` says where training runs, with or without
    progress; its process group shards each epoch (only rank 0 writes); the precision is the
    run's own (`cfg.precision`). `source` names the images in error messages."""
    cfg, run_dir = cfg or TrainConfig(), Path(run_dir)
    _check(train_images, run_dir, cfg, runtime, source)
    with seeded(cfg.seed, runtime.device):  # the caller's random state is left as it was
        return _train(
            train_images, train_orders, run_dir, cfg, resume, runtime, groups, epoch_probe
        )


def _train(train_images, train_orders, run_dir: Path, cfg, resume, runtime, groups, epoch_probe):
    # Weights decaying towards zero late in training turn into denormal floats, which the CPU
    # handles slowly (one VGG-BN trial went from 0.43 s to 1.7 s per step); flush them to zero.
    torch.set_flush_denormal(True)
    rank0, device, distributed = runtime.rank0, runtime.device, runtime.distributed
    digest = labelled_digest(train_images, train_orders, groups)
    fit, val_rows, val_shuffled, val_classes = _held_out(train_images, train_orders, cfg, groups)
    train_originals = torch.from_numpy(fit)

    model = build_model(cfg.model)
    steps_per_epoch = math.ceil(len(fit) * cfg.shuffles / cfg.batch_size)  # global batches
    step = training_step(model, cfg, device, steps_per_epoch)
    average = step.average
    judged = average.module if average is not None else model  # validated, kept in best.pt
    run = RunState(run_dir, cfg, digest, rank0, val_rows, len(train_images))

    with run_folder(run_dir, rank0):
        if rank0:
            atomic.remove_leftovers(run_dir)  # temporary files of a run killed while saving
        run.start(model, step.optimizer, step.scheduler, resume, average)
        step.net = distributed.wrap(model) if distributed else model
        if rank0:
            atomic.write_json(run_dir / CONFIG, config_dict(cfg))
        epoch = run.start_epoch
        while epoch < run.planned and run.stopped is None:
            started = time.perf_counter()
            # Randomness per epoch comes from (seed, epoch): a resumed run replays it exactly.
            rng = np.random.default_rng([cfg.seed, epoch])
            # within train's fork of the global state
            torch.manual_seed(int(rng.integers(2**62)) + (distributed.rank if distributed else 0))
            loader = epoch_loader(train_originals, cfg, rng, device, distributed)
            label = f"epoch {epoch + 1}/{run.planned}"
            # the bar is closed (and cleared) before an error line is printed
            with progress_bar(loader, label, runtime.progress) as bar:
                diverged = functools.partial(run.diverged, epoch)
                stats, warmup = _epoch(step, bar, distributed, diverged)
            if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
                run.diverged(epoch, float("nan"))
            lp = predict_log_probs(
                judged, val_shuffled, runtime=runtime.but(precision=cfg.precision, progress=False)
            )
            record = _epoch_record(epoch, stats, lp, val_classes, started)
            if epoch == 0 and cfg.minutes and not run.plan_fixed:
                steady = record["seconds"] - warmup
                step.scheduler = _planned(run, steady, distributed, step.optimizer, steps_per_epoch)
            if epoch_probe is not None and rank0:
                record.update(epoch_probe(judged))  # after timing: the curve is not training time
            run.finish_epoch(
                epoch, record, model, average, step.optimizer, step.scheduler, runtime.progress
            )
            epoch += 1
    return run.result()


def training_step(model, cfg: TrainConfig, device, steps_per_epoch: int) -> TrainStep:
    """The run's one optimisation step (convlens.engine.train_step), with `model` placed on
    `device` in training's layout: AdamW, its one-cycle schedule over all of cfg.epochs (a
    budget re-plans it after epoch 1), label smoothing, loss scaling for fp16 and the moving
    average of the weights. Training and the speed measurement its plan comes from
    (convlens.jigsaw.training.speed) both build their step here."""
    last = layout.channels_last(device, cfg.precision, "train")
    model.to(device)
    if last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return TrainStep(
        model,
        optimizer,
        device=device,
        precision=cfg.precision,
        channels_last=last,
        label_smoothing=cfg.label_smoothing,
        scheduler=schedule(optimizer, cfg, cfg.epochs * steps_per_epoch),
        average=_moving_average(model, cfg, steps_per_epoch),
    )


def _check(images, run_dir: Path, cfg: TrainConfig, runtime: Runtime, source: str) -> None:
    """Refuse what cannot train before anything is built or written."""
    check_images(images, cfg.model, source)
    cfg.validate()
    if run_dir.exists() and not run_dir.is_dir():
        raise ConvlensError(f"{run_dir}: is a file; expected a run folder")
    check_precision(runtime.device, cfg.precision)


def _planned(run: RunState, steady_seconds: float, distributed, optimizer, steps_per_epoch):
    """The budget's plan from the first epoch, less what its first batch cost beyond an
    ordinary one (oneDNN creates its kernels then: VGG-11-BN's first epoch ran 1.3x its later
    ones held to AVX2); shared by all ranks, it plans from the slowest one. Returns the new
    scheduler."""
    seconds = torch.tensor([steady_seconds], dtype=torch.float64)
    if distributed:
        seconds = distributed.all_reduce_max(seconds)
    return run.plan(float(seconds[0]), optimizer, steps_per_epoch)


def _held_out(images, orders, cfg: TrainConfig, groups):
    """(restored images to train on, the validation rows, their fixed shuffles and classes):
    the validation images are shuffled once, the same way at every epoch."""
    originals = deshuffle(images, orders)  # exact: the orders are known
    fit_rows, val_rows = validation_split(
        originals, cfg.val_fraction, cfg.seed, cfg.val_split, groups
    )
    val_shuffled, val_classes = fixed_shuffles(originals[val_rows], cfg.seed)
    return originals[fit_rows], val_rows, val_shuffled, val_classes


def _epoch_record(epoch: int, stats, val_log_probs, val_classes, started: float) -> dict:
    """The history's line for one epoch (`stats`: loss sum, correct, seen)."""
    return {
        "epoch": epoch + 1,
        "train_loss": float(stats[0] / stats[2]),
        "train_accuracy": float(stats[1] / stats[2]),
        "val_accuracy": float((val_log_probs.argmax(1).numpy() == val_classes).mean()),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _moving_average(model, cfg: TrainConfig, steps_per_epoch: int):
    """An exponential moving average of the weights (and batch-norm statistics) over about
    cfg.ema_epochs epochs, or None. Validation moves by several points from one epoch to the
    next on a few hundred held-out puzzles; the average is a flatter, better-generalising
    point than any single step's weights (benchmarks/bench_jigsaw.py measures it)."""
    if not cfg.ema_epochs:
        return None
    decay = 1 - 1 / max(1.0, cfg.ema_epochs * steps_per_epoch)
    multi_avg_fn = torch.optim.swa_utils.get_ema_multi_avg_fn(decay)
    return torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=multi_avg_fn, use_buffers=True)


def _epoch(step: TrainStep, bar, distributed, on_diverged) -> tuple[torch.Tensor, float]:
    """([loss sum, correct, seen] over the epoch, summed over ranks; the seconds its first batch
    took beyond the mean of the others). A loss that is not finite on any rank calls
    `on_diverged(value)` on every rank, before the update."""

    def check(value: float) -> None:
        bad = not math.isfinite(value)
        if distributed:  # every rank must stop together, or the others wait forever
            bad = bool(distributed.all_reduce_sum(torch.tensor([float(bad)])).item())
        if bad:
            on_diverged(value)

    step.net.train()
    seen, correct, loss_sum = 0, 0, 0.0
    started, first_done, batches, warmup = _batch_clock(), None, 0, 0.0
    for x, y in bar:
        value, logits = step(x, y, check)
        seen += len(y)
        correct += int((logits.argmax(1).cpu() == y).sum())
        loss_sum += value * len(y)
        bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        batches += 1
        first_done = first_done or _batch_clock()
    if batches > 1:
        rest = (_batch_clock() - first_done) / (batches - 1)
        warmup = max(0.0, first_done - started - rest)
    stats = torch.tensor([loss_sum, correct, seen], dtype=torch.float64)
    return (distributed.all_reduce_sum(stats) if distributed else stats), warmup
