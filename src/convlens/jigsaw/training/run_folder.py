"""A training run's folder across epochs: its lock, resuming (same settings, same data), the
epochs planned for a time budget, early stopping, the checkpoints and the history."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import torch

from convlens import atomic
from convlens.atomic import missing_parents, remove_empty
from convlens.errors import ConvlensError
from convlens.jigsaw.run_records import TrainResult, epochs
from convlens.jigsaw.training.checkpoint import (
    BEST,
    CHECKPOINT,
    fitting,
    read_checkpoint,
    save_checkpoint,
)
from convlens.jigsaw.training.config import TrainConfig, config_dict, config_from_dict
from convlens.lock import LOCK_NAME, folder_lock
from convlens.progress import write

CONFIG = "config.json"  # the run's settings, written before its first epoch
HISTORY = "history.json"  # one line per epoch, written with each checkpoint


def schedule(optimizer, cfg: TrainConfig, total_steps: int):
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, total_steps=max(1, total_steps), pct_start=0.15
    )


class RunState:
    """A run folder's state across epochs: resuming, the epochs planned for a time budget,
    early stopping, checkpoints and the history."""

    def __init__(self, run_dir: Path, cfg: TrainConfig, digest: str, rank0: bool, val_rows, n):
        """`digest`: of the `n` labelled images trained on; `val_rows`: which validate."""
        self.dir, self.cfg, self.digest, self.rank0, self.n = run_dir, cfg, digest, rank0, n
        self.val_rows = torch.as_tensor(np.asarray(val_rows, dtype=np.int64))
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
        saved = _binding(config_dict(config_from_dict(json.loads(ckpt["config"]))))
        if saved != _binding(config_dict(self.cfg)):
            differ = _differences(saved, _binding(config_dict(self.cfg)))
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
        at that epoch's speed (at least 1 and cfg.least_epochs, at most cfg.epochs), and a new
        schedule for them, advanced past the steps already taken."""
        fit = self.cfg.minutes * 60 // max(first_epoch_seconds, 1e-9)
        self.planned = int(min(self.cfg.epochs, max(1, self.cfg.least_epochs, fit)))
        self.plan_fixed = True
        scheduler = schedule(optimizer, self.cfg, self.planned * steps_per_epoch)
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
        extra = {
            "planned_epochs": self.planned,
            "stopped": self.stopped or "",
            "validation_rows": self.val_rows,
        }
        if improved:
            save_checkpoint(self.dir / BEST, judged, *saved, **extra)
        if average is not None:  # the last step's weights go on from where they were
            extra["average"] = average.state_dict()
        save_checkpoint(self.dir / CHECKPOINT, model, *saved, **extra)
        atomic.write_json(self.dir / HISTORY, self.history)
        if progress:
            write(
                f"epoch {epoch + 1}/{self.planned}: loss {record['train_loss']:.3f}, train acc "
                f"{record['train_accuracy']:.3f}, val acc {record['val_accuracy']:.3f} "
                f"({record['seconds']} s)"
            )

    def result(self) -> TrainResult:
        return TrainResult(
            run=str(self.dir),
            history=epochs(self.history),
            best_val_accuracy=self.best,
            planned_epochs=self.planned,
            stopped=self.stopped or "epochs",
            n_fit=self.n - len(self.val_rows),
            n_validation=len(self.val_rows),
        )


# Settings that cannot change what a run computes (worker processes build the same batches:
# tests/jigsaw/training/test_train.py checks it), so a resume may change them.
RESULT_FREE = ("workers",)


def _binding(settings: dict) -> dict:
    """The settings a resumed run must share with the run it continues."""
    return {k: v for k, v in settings.items() if k not in RESULT_FREE}


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
def run_folder(run_dir: Path, rank0: bool):
    """Rank 0 holds the run folder's lock for the whole run. When the run fails before its first
    checkpoint, what this call made goes again, so a refused or diverged first epoch leaves
    nothing behind: the files it wrote, then each folder it made, deepest first, if nothing
    else is in it (a file the user or another run put there keeps its folder)."""
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
                for name in (CONFIG, HISTORY, LOCK_NAME):
                    (run_dir / name).unlink(missing_ok=True)
                atomic.remove_leftovers(run_dir)
                remove_empty(made)
            raise
