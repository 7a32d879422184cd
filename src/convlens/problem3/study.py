"""3a-3d for several de-shuffling networks on the same data: train each (with a k-NN probe of
its features after every epoch), evaluate every de-shuffling method, and probe the features of
each network against its random twin and raw pixels. The report and the benchmarks call this.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from convlens import plotting
from convlens.jigsaw.checkpoint import CHECKPOINT
from convlens.jigsaw.config import TrainConfig
from convlens.jigsaw.data import NpzData
from convlens.jigsaw.workflow import evaluate_run, run_training
from convlens.probe.curve import FeatureCurve
from convlens.probe.workflow import probe_run, random_network
from convlens.runtime import cpu_kind, resolve_precision


def run_study(
    shuffled: NpzData,
    normal: NpzData,
    runs: Path,
    configs: dict[str, TrainConfig],
    figures: Path | None = None,
    k: int = 3,
    seed: int = 0,
    device="cpu",
    progress: bool = True,
    step: Callable[[str], None] = lambda _: None,
    tta: bool = True,
) -> dict:
    """{'networks': {name: {...}}, 'curve': {...}}; `runs/<name>` holds each run (an interrupted
    study resumes every training where its checkpoint stopped)."""
    tr = normal.train
    curve = FeatureCurve(tr.images, tr.labels, k=k, seed=seed, groups=tr.groups)
    networks = {}
    for i, (name, cfg) in enumerate(configs.items()):
        run = Path(runs) / name
        out = figures if i == 0 else None  # the first network's examples and embedding figures
        clock = Clock()
        budget = f"at most {cfg.epochs} epoch(s)" + (
            f" within {cfg.minutes:g} min" if cfg.minutes else ""
        )
        step(f"problem3: 3a training {name}, {budget}")
        trained = run_training(
            shuffled,
            run,
            cfg,
            resume=(run / CHECKPOINT).exists(),
            progress=progress,
            epoch_probe=curve,
        )
        clock.lap("3a_training")
        step(f"problem3: 3b evaluating {name}")
        ev = evaluate_run(run, shuffled, out=out, tta=tta, device=device, progress=progress)
        clock.lap("3b_evaluation")
        step(f"problem3: 3c probing {name}")
        probe = probe_run(
            run, normal, k=k, seed=seed, out=out, device=device, progress=progress, raw=i == 0
        )
        random_curve = curve(random_network(cfg.model, cfg.seed))["probe_knn"]
        clock.lap("3c_probe")
        history = trained["history"]
        networks[name] = {
            "arch": cfg.model.arch,
            "settings": _settings(cfg),
            "history": history,
            "training_minutes": round(sum(h["seconds"] for h in history) / 60, 2),
            "budget_minutes": cfg.minutes,
            "planned_epochs": trained["epochs"],
            "max_epochs": cfg.epochs,
            "stopped": trained["stopped"],
            "precision": resolve_precision(torch.device(device), cfg.precision),
            "cpu": cpu_kind(),
            "evaluation": {k_: v for k_, v in ev.items() if k_ != "confusion_network"},
            "probe": probe,
            "random_curve": random_curve,
            "seconds": clock.laps,
        }
    result = {"networks": networks, "curve_images": len(curve.labels)}
    if figures is not None:
        result["curve_figure"] = str(curve_figure(networks, figures / "feature_curve.png"))
        result["learning_figure"] = str(
            learning_figure(networks, figures / "deshuffling_curves.png")
        )
    return result


class Clock:
    """Seconds per step, for results.json and the report's appendix."""

    def __init__(self):
        self.laps, self.started = {}, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.started, 2)
        self.started = now


def _settings(cfg: TrainConfig) -> str:
    m = cfg.model
    parts = [f"width {m.width:g}", f"batch {cfg.batch_size}", f"lr {cfg.lr:g}"]
    if m.resolution and m.resolution != m.input_size:
        parts.insert(0, f"{m.input_size} px resized to {m.resolution} px")
    if m.arch == "cfn":
        parts += [
            f"gap {m.gap} px",
            f"tile norm {'on' if m.tile_norm else 'off'}",
            f"grey tiles {m.tile_gray:g}",
        ]
    if m.arch == "edgenet":
        parts.append(f"seam strips {m.border} px")
    return ", ".join(parts)


def curve_figure(networks: dict, path: Path) -> Path:
    """Probe accuracy against training minutes; each network's random twin as a dashed line."""
    series, flat = {}, {}
    for name, n in networks.items():
        minutes = np.cumsum([h["seconds"] for h in n["history"]]) / 60
        series[name] = (minutes, [h["probe_knn"] for h in n["history"]])
        flat[f"{name}, random weights"] = n["random_curve"]
    return plotting.curves_with_baselines(
        series, flat, "training minutes", "k-NN accuracy (probe validation)", path
    )


def learning_figure(networks: dict, path: Path) -> Path:
    """Validation image-level accuracy of every network against training minutes, with the
    exam's bar."""
    series = {
        name: (
            np.cumsum([h["seconds"] for h in n["history"]]) / 60,
            [h["val_accuracy"] for h in n["history"]],
        )
        for name, n in networks.items()
    }
    return plotting.curves_with_baselines(
        series,
        {"the exam's bar (0.60)": 0.6},
        "training minutes",
        "image-level accuracy (validation)",
        path,
        baseline_colour="grey",
    )
