"""The de-shuffling run's settings: one dataclass with defaults that work, checked once."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from convlens.errors import ConvlensError
from convlens.jigsaw.networks.configs import (
    ARCHS,
    EdgeNetConfig,
    ModelConfig,
    config_class,
    stored_config,
)
from convlens.runtime import PRECISIONS

VAL_SPLITS = ("random", "look-alike")


@dataclass
class TrainConfig:
    epochs: int = 8
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.05
    val_fraction: float = 0.1
    # How validation images are held out when the images' photographs are unknown: "random"
    # rows, or "look-alike" groups of images with similar colours held out whole
    # (convlens.jigsaw.puzzle.look_alike); images with known groups always hold out whole groups.
    val_split: str = "random"
    flip: bool = True
    color_jitter: float = 0.2
    # Each epoch, each image is first cropped to a random square of at least this fraction of
    # its side (and resized back): new content at every seam, and scale changes (1: no crop).
    crop_scale: float = 1.0
    # This fraction of the images is blended with another image (own weight 0.5-1) before
    # shuffling: the arrangement, hence the label, is unchanged (0: off).
    mix: float = 0.0
    seed: int = 0
    # bf16 where the hardware runs it natively, else fp32; kept with the run (it changes the
    # weights), while where the run computes is the Runtime's (convlens.runtime)
    precision: str = "auto"
    workers: int = 0  # processes preparing batches; >0 overlaps data work with a GPU
    # Each training image enters an epoch this many times, each copy in another order, side by
    # side in one batch: the copies differ only in their arrangement, so the gradient is about
    # arrangement, not content.
    shuffles: int = 1
    # A time budget: > 0 plans the epochs after the first one, from its measured speed, so the
    # schedule ends within this many minutes (at most `epochs`); the plan is kept for --resume.
    minutes: float = 0.0
    # With a time budget, never plan fewer epochs than this (0: none), even where the first
    # epoch ran slower than the budget was planned for: the demo's floor for each network, the
    # epochs it was measured to clear its bar with (convlens.problem3.plan.fit)
    least_epochs: int = 0
    # Stop after this many epochs in a row at perfect validation accuracy (0: never).
    patience: int = 3
    # > 0: validate, keep (best.pt) and evaluate an exponential moving average of the weights
    # over about this many epochs, instead of the weights of the last step (0: off)
    ema_epochs: float = 0.0
    model: ModelConfig = field(default_factory=EdgeNetConfig)

    def validate(self) -> None:
        """Refuse settings that cannot train, before any file or folder is created."""
        m = self.model
        checks = [
            (self.epochs >= 1, "epochs must be >= 1", self.epochs),
            (self.least_epochs >= 0, "least_epochs must be >= 0", self.least_epochs),
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
            (
                self.val_split in VAL_SPLITS,
                f"val_split must be one of {', '.join(VAL_SPLITS)}",
                self.val_split,
            ),
            (
                0 <= self.workers <= MAX_WORKERS,
                f"workers must be in 0..{MAX_WORKERS} (this machine's cores)",
                self.workers,
            ),
            (0.25 <= self.crop_scale <= 1, "crop_scale must be in [0.25, 1]", self.crop_scale),
            (1 <= self.shuffles <= 24, "shuffles must be in 1..24", self.shuffles),
            (0 <= self.mix <= 1, "mix must be in [0, 1]", self.mix),
            (math.isfinite(m.width) and m.width > 0, "width must be a number > 0", m.width),
            (m.hidden >= 1, "hidden must be >= 1", m.hidden),
            (0 <= m.dropout < 1, "dropout must be in [0, 1)", m.dropout),
        ]
        checks += [
            (
                math.isfinite(self.minutes) and 0 <= self.minutes <= MAX_MINUTES,
                f"minutes must be in 0..{MAX_MINUTES} (0: train all epochs)",
                self.minutes,
            ),
            (self.patience >= 0, "patience must be >= 0", self.patience),
            (
                math.isfinite(self.ema_epochs) and 0 <= self.ema_epochs <= MAX_EPOCHS,
                f"ema_epochs must be in 0..{MAX_EPOCHS:,} (0: off)",
                self.ema_epochs,
            ),
        ]
        checks += _size_checks(self)
        if m.arch not in ARCHS:
            raise ConvlensError(f"unknown architecture {m.arch!r}; expected one of {ARCHS}")
        if type(m) is not config_class(m.arch):
            raise ConvlensError(f"{m.arch}: settings of {type(m).__name__}, expected its own")
        for ok, message, value in checks + m.checks():
            if not ok:
                raise ConvlensError(f"{message}, got {value}")
        if self.precision not in PRECISIONS:
            raise ConvlensError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")


def config_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)


def config_from_dict(d: dict) -> TrainConfig:
    d = dict(d)
    d.pop("device", None)  # runs saved before the device moved to the Runtime
    d["model"] = stored_config(d["model"])
    return TrainConfig(**d)


def check_images(images: np.ndarray, model: ModelConfig, source: str = "") -> None:
    """The one check of an image set against a de-shuffling network, used by training,
    evaluation and restoration alike: VGG's five 2x2 pools need square images whose side is a
    multiple of 32, and the network was built for one side."""
    where = f"{source}: " if source else ""
    h, w = images.shape[-2:]
    if h != w or w % 32:
        raise ConvlensError(
            f"{where}images must be square with a side that is a multiple of 32 (VGG's five "
            f"pools), got {h} x {w}"
        )
    if w != model.input_size:
        raise ConvlensError(
            f"{where}images are {w} px but the network was built for {model.input_size} px"
        )


# Upper bounds, checked before anything is built: far beyond what trains on any machine, and
# low enough that a mistyped number (--hidden 1e9) is refused instead of allocating terabytes.
MAX_MINUTES = 7 * 24 * 60
MAX_WORKERS = os.cpu_count() or 1
MAX_EPOCHS = 100_000
MAX_BATCH = 65_536
MAX_WIDTH = 8.0
MAX_HIDDEN = 65_536


def _size_checks(cfg: TrainConfig) -> list[tuple[bool, str, object]]:
    m = cfg.model
    return [
        (cfg.epochs <= MAX_EPOCHS, f"epochs must be <= {MAX_EPOCHS:,}", cfg.epochs),
        (cfg.batch_size <= MAX_BATCH, f"batch_size must be <= {MAX_BATCH:,}", cfg.batch_size),
        (m.width <= MAX_WIDTH, f"width must be <= {MAX_WIDTH:g}", m.width),
        (m.hidden <= MAX_HIDDEN, f"hidden must be <= {MAX_HIDDEN:,}", m.hidden),
    ]
