"""Training the de-shuffling network, readable top to bottom: data, model, optimiser, loop,
checkpoint, validation.

Training data is multiplied honestly: each labelled training image is restored once with its
known order; every epoch, augmentation (flip, colour jitter) is applied to the *restored*
image and it is re-shuffled with a fresh permutation (all 24 balanced), so labels stay exact.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from convlens import atomic
from convlens.data.transforms import normalize
from convlens.errors import ConvlensError
from convlens.jigsaw.checkpoint import BEST, CHECKPOINT, read_checkpoint, save_checkpoint
from convlens.jigsaw.config import TrainConfig, check_training_images, config_dict
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
from convlens.runtime import LOW_PRECISIONS, autocast, resolve_device, resolve_precision


def augmentation_parameters(n: int, cfg: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """n x 4 per-image draws (flip, brightness, contrast, saturation) for one epoch.

    Drawn for the whole epoch at once and indexed by image, so that the augmentation of an image
    does not depend on which batch, or which process, it lands in.
    """
    flip = (rng.random(n) < 0.5) & cfg.flip
    jitter = 1 + (rng.random((n, 3)) * 2 - 1) * cfg.color_jitter
    return np.column_stack([flip, jitter]).astype(np.float32)


def augment(x: torch.Tensor, params: np.ndarray) -> torch.Tensor:
    """Flip and colour-jitter whole (restored) images in [0, 1]; applied before shuffling."""
    p = torch.from_numpy(params).view(-1, 4, 1, 1, 1)
    x = torch.where(p[:, 0] > 0.5, x.flip(-1), x)
    brightness, contrast, saturation = p[:, 1], p[:, 2], p[:, 3]
    gray = x.mean(1, keepdim=True)
    x = gray + (x - gray) * saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (mean + (x - mean) * contrast) * brightness
    return x.clamp(0, 1)


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
        restored = augment(self.originals[self.order[pos]].float() / 255.0, self.params[pos])
        return normalize(shuffle(restored, PERMUTATIONS[y.numpy()])), y


def train(
    train_images: np.ndarray,
    train_orders: np.ndarray,
    run_dir: str | Path,
    cfg: TrainConfig | None = None,
    resume: bool = False,
    progress: bool = True,
    distributed=None,
    groups: np.ndarray | None = None,
    epoch_probe=None,
) -> dict:
    """Train on shuffled images with known orders; returns the history and best accuracy.

    `groups` (one label per image, e.g. its source photograph) makes the validation split
    hold out whole groups.

    `epoch_probe(model) -> dict` (e.g. convlens.probe.curve.FeatureCurve) runs after every
    epoch on rank 0; its numbers join the epoch's record in the history (a learning curve).

    `distributed` (see convlens.distributed) shards each epoch across processes; only rank 0
    writes checkpoints and shows progress.
    """
    cfg = cfg or TrainConfig()
    cfg.validate()
    # Weights decaying towards zero late in training turn into denormal floats, which the CPU
    # handles slowly (one VGG-BN trial went from 0.43 s to 1.7 s per step); flush them to zero.
    torch.set_flush_denormal(True)
    check_training_images(train_images, cfg.model)
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConvlensError(f"{run_dir}: is a file; expected a run folder")
    rank0 = distributed is None or distributed.rank == 0
    device = resolve_device(cfg.device) if distributed is None else distributed.device
    arrays = {"images": train_images, "orders": train_orders}
    if groups is not None:
        arrays["groups"] = np.unique(groups, return_inverse=True)[1]
    digest = content_digest(arrays)
    originals = deshuffle(train_images, train_orders)  # restored once; exact by construction
    tr_idx, val_idx = split_train_val(len(originals), cfg.val_fraction, cfg.seed, groups)
    val_shuffled, val_classes = fixed_shuffles(originals[val_idx], cfg.seed)
    train_originals = torch.from_numpy(originals[tr_idx])

    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model).to(device)
    low_precision = resolve_precision(device, cfg.precision) in LOW_PRECISIONS
    if low_precision:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(tr_idx) * cfg.shuffles / cfg.batch_size)  # global batches
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.15
    )
    start_epoch, best, history = 0, -1.0, []
    ckpt_path = run_dir / CHECKPOINT
    if rank0:
        atomic.remove_leftovers(run_dir)  # temporary files of a run killed while saving
    if resume and ckpt_path.exists():
        ckpt = read_checkpoint(ckpt_path)
        saved = json.loads(ckpt["config"])
        if saved != config_dict(cfg):
            raise ConvlensError(f"{ckpt_path}: --resume with different settings than the run")
        if ckpt.get("data_digest", digest) != digest:
            raise ConvlensError(
                f"{ckpt_path}: --resume on other data than the run was trained on; "
                "train into another folder"
            )
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        start_epoch, best = int(ckpt["epoch"]) + 1, float(ckpt["best_val_accuracy"])
        history = json.loads(ckpt["history"])
    elif ckpt_path.exists():
        raise ConvlensError(f"{run_dir}: already has a run; pass --resume or another folder")
    net = distributed.wrap(model) if distributed else model
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16")
    if rank0:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic.write_json(run_dir / "config.json", config_dict(cfg))

    for epoch in range(start_epoch, cfg.epochs):
        started = time.perf_counter()
        # Randomness per epoch comes from (seed, epoch): a resumed run replays it exactly.
        rng = np.random.default_rng([cfg.seed, epoch])
        torch.manual_seed(int(rng.integers(2**62)) + (distributed.rank if distributed else 0))
        order, classes, params = epoch_plan(len(tr_idx), cfg, rng)  # the same on every rank
        net.train()
        seen, correct, loss_sum = 0, 0, 0.0
        batches = EpochBatches(
            train_originals,
            order,
            classes,
            params,
            _local_batches(len(order), cfg.batch_size, distributed),
        )
        loader = DataLoader(
            batches, batch_size=None, num_workers=cfg.workers, pin_memory=device.type == "cuda"
        )
        bar = tqdm(
            loader,
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not (progress and rank0),
            leave=False,
        )
        for x, y in bar:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if low_precision:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast(device, cfg.precision):
                logits = net(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # fp16 on CUDA needs loss scaling; else a no-op
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            seen += len(y)
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += loss.item() * len(y)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        stats = torch.tensor([loss_sum, correct, seen], dtype=torch.float64)
        if distributed:
            stats = distributed.all_reduce_sum(stats)
        val_acc = float(
            (
                predict_log_probs(model, val_shuffled, device=device, precision=cfg.precision)
                .argmax(1)
                .numpy()
                == val_classes
            ).mean()
        )
        record = {
            "epoch": epoch + 1,
            "train_loss": float(stats[0] / stats[2]),
            "train_accuracy": float(stats[1] / stats[2]),
            "val_accuracy": val_acc,
            "seconds": round(time.perf_counter() - started, 2),
        }
        if epoch_probe is not None and rank0:
            record.update(epoch_probe(model))  # after timing: the curve is not training time
        history.append(record)
        improved = val_acc > best
        best = max(best, val_acc)
        if rank0:
            saved = (model, optimizer, scheduler, epoch, best, cfg, history, digest)
            if improved:
                save_checkpoint(run_dir / BEST, *saved)
            save_checkpoint(ckpt_path, *saved)
            atomic.write_json(run_dir / "history.json", history)
            if progress:
                tqdm.write(
                    f"epoch {epoch + 1}: loss {record['train_loss']:.3f}, train acc "
                    f"{record['train_accuracy']:.3f}, val acc {val_acc:.3f} ({record['seconds']} s)"
                )
    return {"history": history, "best_val_accuracy": best, "run": str(run_dir)}
