"""Training the de-shuffling network, readable top to bottom: data, model, optimiser, loop,
checkpoint, validation.

Training data is multiplied honestly: each labelled training image is restored once with its
known order; every epoch, augmentation (flip, colour jitter) is applied to the *restored*
image and it is re-shuffled with a fresh permutation (all 24 balanced), so labels stay exact.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from convlens import atomic
from convlens.atomic import missing_parents
from convlens.data.transforms import normalize
from convlens.errors import ConvlensError
from convlens.jigsaw.checkpoint import (
    BEST,
    CHECKPOINT,
    fitting,
    read_checkpoint,
    save_checkpoint,
)
from convlens.jigsaw.config import (
    TrainConfig,
    check_images,
    config_dict,
    config_from_dict,
)
from convlens.jigsaw.data import content_digest
from convlens.jigsaw.inference import predict_log_probs
from convlens.jigsaw.model import build_model
from convlens.jigsaw.permutations import PERMUTATIONS
from convlens.jigsaw.splits import (
    balanced_classes,
    distinct_classes,
    fixed_shuffles,
    split_train_val,
)
from convlens.jigsaw.tiles import deshuffle, shuffle
from convlens.lock import folder_lock
from convlens.runtime import LOW_PRECISIONS, autocast, resolve_device, resolve_precision


def augmentation_parameters(n: int, cfg: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """n x 7 per-image draws (flip, brightness, contrast, saturation, crop side, crop left, crop
    top) for one epoch; the crop is the whole image unless cfg.crop_scale < 1. With cfg.mix > 0
    two more columns: another image to blend in and the image's own weight (1: not blended).

    Drawn for the whole epoch at once and indexed by image, so that the augmentation of an image
    does not depend on which batch, or which process, it lands in.
    """
    flip = (rng.random(n) < 0.5) & cfg.flip
    jitter = 1 + (rng.random((n, 3)) * 2 - 1) * cfg.color_jitter
    crop = np.tile([1.0, 0.0, 0.0], (n, 1))
    if cfg.crop_scale < 1:  # drawn only then, so runs without it replay as before
        side = rng.uniform(cfg.crop_scale, 1.0, n)
        crop = np.column_stack([side, rng.random(n) * (1 - side), rng.random(n) * (1 - side)])
    columns = [flip, jitter, crop]
    if cfg.mix > 0:  # drawn only then, so runs without it replay as before
        weight = np.where(rng.random(n) < cfg.mix, rng.uniform(0.5, 1.0, n), 1.0)
        columns += [rng.integers(0, n, n), weight]  # an index, exact in float32 below 2**24
    return np.column_stack(columns).astype(np.float32)


def blend(x: torch.Tensor, partners: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Restored images blended with other restored images: both are in the identity order, so
    the blend has the same arrangement and its label stays exact, while its content is a scene
    no photograph shows (the network has to learn what holds for any content)."""
    w = weight.view(-1, 1, 1, 1)
    return w * x + (1 - w) * partners


def augment(x: torch.Tensor, params: np.ndarray) -> torch.Tensor:
    """Crop, flip and colour-jitter whole (restored) images in [0, 1]; applied before shuffling,
    so the seams of the puzzle are cut through new content at a new scale, while the labels
    stay exact."""
    p = torch.from_numpy(params)
    if (p[:, 4] < 1).any():
        x = _rescaled_crops(x, p[:, 4:7])
    p = p[:, :4].reshape(-1, 4, 1, 1, 1)
    x = torch.where(p[:, 0] > 0.5, x.flip(-1), x)
    brightness, contrast, saturation = p[:, 1], p[:, 2], p[:, 3]
    gray = x.mean(1, keepdim=True)
    x = gray + (x - gray) * saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (mean + (x - mean) * contrast) * brightness
    return x.clamp(0, 1)


def _rescaled_crops(x: torch.Tensor, crop: torch.Tensor) -> torch.Tensor:
    """Each image's square window (side, left, top as fractions of the side) resized back to the
    full side, bilinearly, by one affine grid sample for the batch."""
    side, left, top = crop[:, 0], crop[:, 1], crop[:, 2]
    theta = torch.zeros(len(x), 2, 3)
    theta[:, 0, 0] = side
    theta[:, 1, 1] = side
    theta[:, 0, 2] = 2 * left + side - 1  # the window's centre in [-1, 1]
    theta[:, 1, 2] = 2 * top + side - 1
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(
        x, grid, mode="bilinear", padding_mode="border", align_corners=False
    )


def epoch_plan(n: int, cfg: TrainConfig, rng: np.random.Generator):
    """(image at each position, its order class, its augmentation) for one epoch.

    With cfg.shuffles > 1 the copies of an image sit side by side (so in one batch), share one
    augmentation and get different orders."""
    order = rng.permutation(n)
    if cfg.shuffles == 1:
        return order, balanced_classes(n, rng), augmentation_parameters(n, cfg, rng)
    classes = distinct_classes(n, cfg.shuffles, rng)
    params = np.repeat(augmentation_parameters(n, cfg, rng), cfg.shuffles, 0)
    return np.repeat(order, cfg.shuffles), classes, params


def _local_batches(n: int, batch_size: int, distributed) -> list[np.ndarray]:
    """Positions of each global batch in the epoch order; under DDP, this rank's slice."""
    out = []
    for start in range(0, n, batch_size):
        pos = np.arange(start, min(start + batch_size, n))
        if distributed:
            if len(pos) < distributed.world_size:
                continue  # a last global batch too small to give every rank an image
            pos = distributed.local_slice(pos)
        out.append(pos)
    return out


class EpochBatches(Dataset):
    """One epoch's training batches: restore, augment, re-shuffle, normalise.

    Each item is a whole batch, built with the vectorised code, so a DataLoader with workers
    prepares batches in other processes (and pins them for a GPU) while with no workers it is
    the same loop as before."""

    def __init__(self, originals: torch.Tensor, order, classes, params, batches):
        self.originals, self.order, self.classes = originals, order, classes
        self.params, self.batches = params, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        pos = self.batches[k]
        y = torch.from_numpy(self.classes[pos])
        params = self.params[pos]
        images = self.originals[self.order[pos]].float() / 255.0
        if params.shape[1] > 7:
            partners = self.originals[params[:, 7].astype(np.int64)].float() / 255.0
            images = blend(images, partners, torch.from_numpy(params[:, 8]))
        restored = augment(images, params)
        return normalize(shuffle(restored, PERMUTATIONS[y.numpy()])), y


def train(
    train_images: np.ndarray,
    train_orders: np.ndarray,
    run_dir: str | Path,
    cfg: TrainConfig | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    distributed=None,
    groups: np.ndarray | None = None,
    epoch_probe=None,
    source: str = "",
) -> dict:
    """Train on shuffled images with known orders; returns the history, the best validation
    accuracy, the epochs planned and why training stopped ("epochs", "budget" when
    cfg.minutes planned fewer epochs than cfg.epochs, or "perfect" after cfg.patience epochs
    of perfect validation accuracy).

    `groups` (one label per image, e.g. its source photograph) makes the validation split
    hold out whole groups.

    `epoch_probe(model) -> dict` (e.g. convlens.probe.curve.FeatureCurve) runs after every
    epoch on rank 0; its numbers join the epoch's record in the history (a learning curve).

    `distributed` (see convlens.distributed) shards each epoch across processes; only rank 0
    writes checkpoints and shows progress. `source` names the images in error messages.
    """
    cfg = cfg or TrainConfig()
    check_images(train_images, cfg.model, source)
    cfg.validate()
    # Weights decaying towards zero late in training turn into denormal floats, which the CPU
    # handles slowly (one VGG-BN trial went from 0.43 s to 1.7 s per step); flush them to zero.
    torch.set_flush_denormal(True)
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConvlensError(f"{run_dir}: is a file; expected a run folder")
    rank0 = distributed is None or distributed.rank == 0
    device = resolve_device(cfg.device) if distributed is None else distributed.device
    arrays = {"images": train_images, "orders": train_orders}
    if groups is not None:
        arrays["groups"] = np.unique(groups, return_inverse=True)[1]
    digest = content_digest(arrays)
    fit, val = split_originals(train_images, train_orders, cfg, groups)
    val_shuffled, val_classes = fixed_shuffles(val, cfg.seed)
    train_originals = torch.from_numpy(fit)

    torch.manual_seed(cfg.seed)
    model, channels_last = train_layout(build_model(cfg.model), cfg, device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(fit) * cfg.shuffles / cfg.batch_size)  # global batches
    scheduler = _schedule(optimizer, cfg, cfg.epochs * steps_per_epoch)
    average = _moving_average(model, cfg, steps_per_epoch)
    judged = average.module if average is not None else model  # validated, kept in best.pt
    run = _Run(run_dir, cfg, digest, rank0)

    with _run_folder(run_dir, rank0):
        if rank0:
            atomic.remove_leftovers(run_dir)  # temporary files of a run killed while saving
        run.start(model, optimizer, scheduler, resume, average)
        net = distributed.wrap(model) if distributed else model
        scaler = torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16")
        if rank0:
            atomic.write_json(run_dir / "config.json", config_dict(cfg))
        epoch = run.start_epoch
        while epoch < run.planned and run.stopped is None:
            started = time.perf_counter()
            # Randomness per epoch comes from (seed, epoch): a resumed run replays it exactly.
            rng = np.random.default_rng([cfg.seed, epoch])
            torch.manual_seed(int(rng.integers(2**62)) + (distributed.rank if distributed else 0))
            loader = _epoch_loader(train_originals, cfg, rng, device, distributed)
            step = _Step(net, optimizer, scheduler, scaler, cfg, device, channels_last, average)
            with tqdm(
                loader,
                desc=f"epoch {epoch + 1}/{run.planned}",
                disable=not (progress and rank0),
                leave=False,
            ) as bar:  # closed (and cleared) before an error line is printed
                stats = step.epoch(bar, distributed, functools.partial(run.diverged, epoch))
            if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
                run.diverged(epoch, float("nan"))
            lp = predict_log_probs(judged, val_shuffled, device=device, precision=cfg.precision)
            record = {
                "epoch": epoch + 1,
                "train_loss": float(stats[0] / stats[2]),
                "train_accuracy": float(stats[1] / stats[2]),
                "val_accuracy": float((lp.argmax(1).numpy() == val_classes).mean()),
                "seconds": round(time.perf_counter() - started, 2),
            }
            if epoch == 0 and cfg.minutes and not run.plan_fixed:
                # The budget is shared by all ranks: plan from the slowest one's first epoch.
                seconds = torch.tensor([record["seconds"]], dtype=torch.float64)
                if distributed:
                    seconds = distributed.all_reduce_max(seconds)
                scheduler = run.plan(float(seconds[0]), optimizer, steps_per_epoch)
                step.scheduler = scheduler
            if epoch_probe is not None and rank0:
                record.update(epoch_probe(judged))  # after timing: the curve is not training time
            run.finish_epoch(epoch, record, model, average, optimizer, scheduler, progress)
            epoch += 1
    return run.result()


def train_layout(model, cfg: TrainConfig, device) -> tuple[torch.nn.Module, bool]:
    """The model on `device` in the memory layout training uses, and whether it is
    channels_last: that pays off with bf16 anywhere, and with fp32 on a CPU too, since oneDNN's
    convolutions skip a reorder per layer (benchmarks/bench_precision.py: a training step of
    EdgeNet 1.4x, VGG-11-BN 1.2x the speed of the contiguous layout on an AVX-512 Xeon, the
    CFN's the same)."""
    model = model.to(device)
    channels_last = (
        resolve_precision(device, cfg.precision) in LOW_PRECISIONS or device.type == "cpu"
    )
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model, channels_last


def split_originals(
    images: np.ndarray, orders: np.ndarray, cfg: TrainConfig, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The restored originals of the images a run trains on and of those it validates on: the
    one home of the split, so evaluation fits the seam score on exactly the images training
    held out (the restoration is exact by construction)."""
    originals = deshuffle(images, orders)
    fit, val = split_train_val(len(originals), cfg.val_fraction, cfg.seed, groups=groups)
    return originals[fit], originals[val]


def _epoch_loader(originals: torch.Tensor, cfg: TrainConfig, rng, device, distributed):
    """This epoch's batches: every image in `cfg.shuffles` fresh orders, augmented, in
    `cfg.workers` worker processes; under torchrun this rank's share of the same plan."""
    order, classes, params = epoch_plan(len(originals), cfg, rng)  # the same on every rank
    local = _local_batches(len(order), cfg.batch_size, distributed)
    batches = EpochBatches(originals, order, classes, params, local)
    return DataLoader(
        batches, batch_size=None, num_workers=cfg.workers, pin_memory=device.type == "cuda"
    )


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


def _schedule(optimizer, cfg: TrainConfig, total_steps: int):
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, total_steps=max(1, total_steps), pct_start=0.15
    )


class _Step:
    """One optimisation step at a time: forward (autocast), loss, backward, update."""

    def __init__(self, net, optimizer, scheduler, scaler, cfg, device, channels_last, average):
        self.net, self.optimizer, self.scheduler, self.scaler = net, optimizer, scheduler, scaler
        self.cfg, self.device, self.channels_last = cfg, device, channels_last
        self.average = average  # a moving average of the weights (or None), updated every step

    def epoch(self, bar, distributed, on_diverged) -> torch.Tensor:
        """[loss sum, correct, seen] over the epoch (summed over ranks); a loss that is not
        finite on any rank calls `on_diverged(value)` on every rank, before the update."""
        self.net.train()
        seen, correct, loss_sum = 0, 0, 0.0
        for x, y in bar:
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast(self.device, self.cfg.precision):
                logits = self.net(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=self.cfg.label_smoothing)
            value = loss.item()
            bad = not math.isfinite(value)
            if distributed:  # every rank must stop together, or the others wait forever
                bad = bool(distributed.all_reduce_sum(torch.tensor([float(bad)])).item())
            if bad:
                on_diverged(value)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()  # fp16 on CUDA needs loss scaling; else a no-op
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scheduler.step()
            if self.average is not None:
                self.average.update_parameters(self.net)
            seen += len(y)
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += value * len(y)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        stats = torch.tensor([loss_sum, correct, seen], dtype=torch.float64)
        return distributed.all_reduce_sum(stats) if distributed else stats


class _Run:
    """A run folder's state across epochs: resuming, the epochs planned for a time budget,
    early stopping, checkpoints and the history."""

    def __init__(self, run_dir: Path, cfg: TrainConfig, digest: str, rank0: bool):
        self.dir, self.cfg, self.digest, self.rank0 = run_dir, cfg, digest, rank0
        self.start_epoch, self.best, self.history = 0, -1.0, []
        self.planned = cfg.epochs
        self.plan_fixed = False  # True once the epochs are planned (by a budget or a checkpoint)
        self.stopped: str | None = None

    def start(self, model, optimizer, scheduler, resume: bool, average=None) -> None:
        path = self.dir / CHECKPOINT
        if not path.exists():
            return
        if not resume:
            raise ConvlensError(f"{self.dir}: already has a run; pass --resume or another folder")
        ckpt = read_checkpoint(path)
        saved = config_dict(config_from_dict(json.loads(ckpt["config"])))
        if saved != config_dict(self.cfg):
            differ = _differences(saved, config_dict(self.cfg))
            raise ConvlensError(f"{path}: --resume with different settings than the run ({differ})")
        if ckpt.get("data_digest", self.digest) != self.digest:
            raise ConvlensError(
                f"{path}: --resume on other data than the run was trained on; "
                "train into another folder"
            )
        if average is not None and "average" not in ckpt:
            raise ConvlensError(f"{path}: no moving average of the weights to resume from")
        with fitting(path):
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])  # holds the planned total steps too
            if average is not None:
                average.load_state_dict(ckpt["average"])
        self.start_epoch, self.best = int(ckpt["epoch"]) + 1, float(ckpt["best_val_accuracy"])
        self.history = json.loads(ckpt["history"])
        if "planned_epochs" in ckpt:
            self.planned = int(ckpt["planned_epochs"])
            self.plan_fixed = True
        self.stopped = ckpt.get("stopped") or None

    def plan(self, first_epoch_seconds: float, optimizer, steps_per_epoch: int):
        """After the first epoch of a time-budgeted run: as many epochs as fit in the budget
        at that epoch's speed (at least 1, at most cfg.epochs), and a new schedule for them,
        advanced past the steps already taken."""
        budget = self.cfg.minutes * 60
        self.planned = int(min(self.cfg.epochs, max(1, budget // max(first_epoch_seconds, 1e-9))))
        self.plan_fixed = True
        scheduler = _schedule(optimizer, self.cfg, self.planned * steps_per_epoch)
        for _ in range(steps_per_epoch):
            scheduler.step()
        return scheduler

    def diverged(self, epoch: int, value: float) -> None:
        kept = (
            f"{CHECKPOINT} holds epoch {epoch}, the last good one"
            if epoch > self.start_epoch or (self.dir / CHECKPOINT).exists()
            else "no epoch had finished, so nothing was kept"
        )
        raise ConvlensError(
            f"{self.dir}: the training loss became {value} in epoch {epoch + 1}; training "
            f"stopped ({kept}); try a lower --lr than {self.cfg.lr:g}"
        )

    def finish_epoch(self, epoch, record, model, average, optimizer, scheduler, progress) -> None:
        """`average`: the moving average of `model`'s weights, or None; best.pt keeps whichever
        was validated."""
        judged = average.module if average is not None else model
        self.history.append(record)
        # A tie keeps the later epoch: it trained further down the schedule. At perfect
        # validation this matters most: EdgeNet's epoch 2 and 3 both read 1.000 on held-out
        # photographs, and on unseen ones the third scored higher (docs/experiments.md).
        improved = record["val_accuracy"] >= self.best
        self.best = max(self.best, record["val_accuracy"])
        patience = self.cfg.patience
        recent = [h["val_accuracy"] for h in self.history[-patience:]] if patience else []
        if patience and len(recent) == patience and min(recent) >= 1.0:
            self.stopped = "perfect"
        elif epoch + 1 >= self.planned:
            self.stopped = "budget" if self.planned < self.cfg.epochs else "epochs"
        if not self.rank0:
            return
        saved = (optimizer, scheduler, epoch, self.best, self.cfg, self.history, self.digest)
        extra = {"planned_epochs": self.planned, "stopped": self.stopped or ""}
        if improved:
            save_checkpoint(self.dir / BEST, judged, *saved, **extra)
        if average is not None:  # the last step's weights go on from where they were
            extra["average"] = average.state_dict()
        save_checkpoint(self.dir / CHECKPOINT, model, *saved, **extra)
        atomic.write_json(self.dir / "history.json", self.history)
        if progress:
            tqdm.write(
                f"epoch {epoch + 1}/{self.planned}: loss {record['train_loss']:.3f}, train acc "
                f"{record['train_accuracy']:.3f}, val acc {record['val_accuracy']:.3f} "
                f"({record['seconds']} s)"
            )

    def result(self) -> dict:
        return {
            "history": self.history,
            "best_val_accuracy": self.best,
            "run": str(self.dir),
            "epochs": self.planned,
            "stopped": self.stopped or "epochs",
            "minutes": round(sum(h["seconds"] for h in self.history) / 60, 2),
        }


def _differences(saved: dict, now: dict, where: str = "") -> str:
    """The settings that differ, "name: run's value -> this value", for the refusal's line."""
    out = []
    for k in saved.keys() | now.keys():
        a, b = saved.get(k), now.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            inner = _differences(a, b, f"{where}{k}.")
            out += [inner] if inner else []
        elif a != b:
            out.append(f"{where}{k}: {a} -> {b}")
    return ", ".join(sorted(out))


@contextlib.contextmanager
def _run_folder(run_dir: Path, rank0: bool):
    """Rank 0 holds the run folder's lock for the whole run. A folder this call made is removed
    again when the run fails before its first checkpoint, so a refused or diverged first epoch
    leaves nothing behind."""
    if not rank0:
        yield
        return
    made = [run_dir, *missing_parents(run_dir)] if not run_dir.exists() else []
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConvlensError(f"{run_dir}: cannot create the run folder ({exc.strerror})") from exc
    with folder_lock(run_dir):
        try:
            yield
        except BaseException:
            if made and not (run_dir / CHECKPOINT).exists():
                shutil.rmtree(made[-1], ignore_errors=True)
            raise
