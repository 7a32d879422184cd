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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from convlens import atomic
from convlens.data.transforms import normalize
from convlens.distributed import sharded_rows
from convlens.errors import ConvlensError
from convlens.jigsaw.data import content_digest
from convlens.jigsaw.model import ARCHS, ModelConfig, build_model
from convlens.jigsaw.permutations import NUM_PERMUTATIONS, PERMUTATIONS
from convlens.jigsaw.tiles import deshuffle, shuffle
from convlens.runtime import (
    LOW_PRECISIONS,
    autocast,
    check_precision,
    resolve_device,
    resolve_precision,
)
from convlens.safe_load import load_tensors_file

CHECKPOINT = "checkpoint.pt"
BEST = "best.pt"


@dataclass
class TrainConfig:
    epochs: int = 8
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.05
    val_fraction: float = 0.1
    flip: bool = True
    color_jitter: float = 0.2
    seed: int = 0
    precision: str = "auto"  # bf16 where the hardware runs it natively, else fp32
    device: str = "auto"
    workers: int = 0  # processes preparing batches; >0 overlaps data work with a GPU
    model: ModelConfig = field(default_factory=ModelConfig)

    def validate(self) -> None:
        """Refuse settings that cannot train, before any file or folder is created."""
        m = self.model
        checks = [
            (self.epochs >= 1, "epochs must be >= 1", self.epochs),
            (self.batch_size >= 1, "batch_size must be >= 1", self.batch_size),
            (math.isfinite(self.lr) and self.lr > 0, "lr must be a finite number > 0", self.lr),
            (
                math.isfinite(self.weight_decay) and self.weight_decay >= 0,
                "weight_decay must be a finite number >= 0",
                self.weight_decay,
            ),
            (0 <= self.label_smoothing < 1, "label_smoothing must be in [0, 1)", 0),
            # 0 would leave no validation split, hence no best.pt for evaluate and probe.
            (0 < self.val_fraction < 1, "val_fraction must be in (0, 1)", self.val_fraction),
            (self.workers >= 0, "workers must be >= 0", self.workers),
            (math.isfinite(m.width) and m.width > 0, "width must be a number > 0", m.width),
            (m.hidden >= 1, "hidden must be >= 1", m.hidden),
            (0 <= m.dropout < 1, "dropout must be in [0, 1)", m.dropout),
        ]
        for ok, message, value in checks:
            if not ok:
                raise ConvlensError(f"{message}, got {value}")
        if m.arch not in ARCHS:
            raise ConvlensError(f"unknown architecture {m.arch!r}; expected one of {ARCHS}")
        check_precision(resolve_device(self.device), self.precision)


def normalise(images_uint8: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W uint8 -> float normalised with the ImageNet statistics."""
    return normalize(images_uint8.float().div_(255.0))


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


def balanced_classes(n: int, rng: np.random.Generator) -> np.ndarray:
    """n permutation classes, each of the 24 used equally often (up to one), in random order."""
    return rng.permutation(np.resize(np.arange(NUM_PERMUTATIONS), n))


def split_train_val(
    n: int, fraction: float, seed: int, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, validation) indices. With `groups` (e.g. the source photograph of each
    crop), whole groups go to validation, so it never shares a photograph with training."""
    if groups is not None:
        names = np.unique(groups)
        order = np.random.default_rng(seed).permutation(len(names))
        n_val = min(len(names) - 1, max(1, int(round(len(names) * fraction))))
        held = np.isin(groups, names[order[:n_val]])
        return np.flatnonzero(~held), np.flatnonzero(held)
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * fraction))) if fraction > 0 else 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def fixed_shuffles(originals: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic shuffled copy of `originals` and its classes, for validation."""
    classes = balanced_classes(len(originals), np.random.default_rng(seed + 7919))
    return shuffle(originals, PERMUTATIONS[classes]), classes


@torch.no_grad()
def predict_log_probs(
    model,
    shuffled: np.ndarray | torch.Tensor,
    batch_size: int = 256,
    device="cpu",
    precision: str = "fp32",
    progress: bool = False,
    distributed=None,
) -> torch.Tensor:
    """N x 24 log-probabilities over permutation classes, in eval mode (sharded over the
    ranks under torchrun, gathered in order)."""
    device = torch.device(device)
    model.eval()
    images = torch.as_tensor(shuffled)

    def rows(indices: np.ndarray) -> torch.Tensor:
        out = [torch.empty(0, NUM_PERMUTATIONS)]
        for start in tqdm(
            range(0, len(indices), batch_size), desc="predict", disable=not progress, leave=False
        ):
            x = normalise(images[indices[start : start + batch_size]].to(device))
            if resolve_precision(device, precision) in LOW_PRECISIONS:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast(device, precision):
                out.append(torch.log_softmax(model(x).float(), 1).cpu())
        return torch.cat(out)

    return sharded_rows(rows, len(images), distributed)


def _save(
    path: Path,
    model,
    optimizer,
    scheduler,
    epoch: int,
    best: float,
    cfg: TrainConfig,
    history: list[dict],
    data_digest: str,
) -> None:
    state = {k.removeprefix("module."): v for k, v in model.state_dict().items()}
    atomic.torch_save(
        {
            "model": state,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "best_val_accuracy": best,
            "config": json.dumps(_config_dict(cfg)),
            "history": json.dumps(history),
            "data_digest": data_digest,
        },
        path,
    )


def _config_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)


def config_from_dict(d: dict) -> TrainConfig:
    d = dict(d)
    d["model"] = ModelConfig(**d["model"])
    return TrainConfig(**d)


def read_checkpoint(path: Path) -> dict:
    """A checkpoint's dict, loaded with weights_only=True; one line for any unreadable file."""
    ckpt = load_tensors_file(path, "a checkpoint written by `convlens jigsaw train`")
    if not isinstance(ckpt, dict) or not {"model", "config"} <= set(ckpt):
        raise ConvlensError(f"{path}: not a convlens jigsaw checkpoint (no model and config)")
    return ckpt


def load_run(run: str | Path, which: str = BEST, device="cpu"):
    """(model in eval mode, TrainConfig, checkpoint dict) from a run folder or checkpoint file."""
    path = Path(run)
    if path.is_dir():
        path = path / which
    if not path.is_file():
        raise ConvlensError(f"{path}: no checkpoint (train with `convlens jigsaw train` first)")
    ckpt = read_checkpoint(path)
    try:
        cfg = config_from_dict(json.loads(ckpt["config"]))
        model = build_model(cfg.model)
        model.load_state_dict(ckpt["model"])
    except ConvlensError as exc:
        raise ConvlensError(f"{path}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - wrong keys, shapes or settings in the user's file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConvlensError(f"{path}: checkpoint does not fit its own settings ({first})") from exc
    return model.to(device).eval(), cfg, ckpt


def check_training_images(images: np.ndarray, model: ModelConfig) -> None:
    """VGG's five 2x2 pools need square images whose side is a multiple of 32."""
    h, w = images.shape[-2:]
    if h != w or w % 32:
        raise ConvlensError(
            f"images must be square with a side that is a multiple of 32 (VGG's five pools), "
            f"got {h} x {w}"
        )
    if w != model.input_size:
        raise ConvlensError(f"images are {w} px but the model's input_size is {model.input_size}")


def train(
    train_images: np.ndarray,
    train_orders: np.ndarray,
    run_dir: str | Path,
    cfg: TrainConfig | None = None,
    resume: bool = False,
    progress: bool = True,
    distributed=None,
    groups: np.ndarray | None = None,
) -> dict:
    """Train on shuffled images with known orders; returns the history and best accuracy.

    `groups` (one label per image, e.g. its source photograph) makes the validation split
    hold out whole groups.

    `distributed` (see convlens.distributed) shards each epoch across processes; only rank 0
    writes checkpoints and shows progress.
    """
    cfg = cfg or TrainConfig()
    cfg.validate()
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
    steps_per_epoch = math.ceil(len(tr_idx) / cfg.batch_size)  # global batches
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
        if saved != _config_dict(cfg):
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
        atomic.write_json(run_dir / "config.json", _config_dict(cfg))

    for epoch in range(start_epoch, cfg.epochs):
        started = time.perf_counter()
        # Randomness per epoch comes from (seed, epoch): a resumed run replays it exactly.
        rng = np.random.default_rng([cfg.seed, epoch])
        torch.manual_seed(int(rng.integers(2**62)) + (distributed.rank if distributed else 0))
        order = rng.permutation(len(tr_idx))  # the same on every rank
        classes = balanced_classes(len(tr_idx), rng)
        params = augmentation_parameters(len(tr_idx), cfg, rng)
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
        history.append(record)
        improved = val_acc > best
        best = max(best, val_acc)
        if rank0:
            saved = (model, optimizer, scheduler, epoch, best, cfg, history, digest)
            if improved:
                _save(run_dir / BEST, *saved)
            _save(ckpt_path, *saved)
            atomic.write_json(run_dir / "history.json", history)
            if progress:
                tqdm.write(
                    f"epoch {epoch + 1}: loss {record['train_loss']:.3f}, train acc "
                    f"{record['train_accuracy']:.3f}, val acc {val_acc:.3f} ({record['seconds']} s)"
                )
    return {"history": history, "best_val_accuracy": best, "run": str(run_dir)}
