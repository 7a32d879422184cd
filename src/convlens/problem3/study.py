"""3a-3d for several de-shuffling networks on the same data: train each (with a k-NN probe of
its features after every epoch), evaluate every de-shuffling method, and probe the features of
each network against its random twin and raw pixels. The report and the benchmarks call this.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from convlens.jigsaw.networks.configs import CFNConfig, EdgeNetConfig, VGGConfig
from convlens.jigsaw.puzzle.data import NpzData
from convlens.jigsaw.run_records import training_minutes
from convlens.jigsaw.training.checkpoint import CHECKPOINT, load_run
from convlens.jigsaw.training.config import TrainConfig
from convlens.probe.curve import FeatureCurve
from convlens.problem3.budget import TrainingBudget
from convlens.problem3.deshuffle import evaluate_model, run_training
from convlens.problem3.probe import probe_model, random_network
from convlens.problem3.study_records import NetworkResult, Study
from convlens.runtime import Runtime, accelerator_words, cpu_kind, resolve_precision
from convlens.timing import StepTimer


def run_study(
    shuffled: NpzData,
    normal: NpzData,
    runs: Path,
    configs: dict[str, TrainConfig],
    *,
    k: int = 3,
    seed: int = 0,
    runtime: Runtime = Runtime(),
    step: Callable[[str], None] = lambda _: None,
    tta: bool = True,
    budget: TrainingBudget | None = None,
) -> Study:
    """Every network of `configs` trained, evaluated and probed; `runs/<name>` holds each run
    (an interrupted study resumes every training where its checkpoint stopped). With `budget`,
    each network trains for its share of the minutes the networks before it left
    (convlens.problem3.budget). Figures: convlens.figures.problem3.draw_study."""
    tr = normal.train
    curve = FeatureCurve(tr.images, tr.labels, k=k, seed=seed, groups=tr.groups)
    networks, spent = {}, 0.0
    for i, (name, cfg) in enumerate(configs.items()):
        if budget is not None:
            least = budget.floor(name)  # its need, or the demo's floor where fitted
            cfg = dataclasses.replace(cfg, minutes=budget.share(name, spent), least_epochs=least)
        run = Path(runs) / name
        timer = StepTimer(step)
        limit = f"at most {cfg.epochs} epoch(s)" + (
            f" within {cfg.minutes:g} min" if cfg.minutes else ""
        )
        with timer.step("3a_training", f"problem3: 3a training {name}, {limit}"):
            trained = run_training(
                shuffled,
                run,
                cfg,
                resume=(run / CHECKPOINT).exists(),
                runtime=runtime,
                epoch_probe=curve,
            )
        with timer.step("3b_evaluation", f"problem3: 3b evaluating {name}"):
            model, run_cfg, ckpt = load_run(run, device=runtime.device)  # the best epoch, once
            ev = evaluate_model(
                model, run_cfg, shuffled, run=run, checkpoint=ckpt, tta=tta, runtime=runtime
            )
        with timer.step("3c_probe", f"problem3: 3c probing {name}"):
            probe = probe_model(
                model, cfg.model, normal, k=k, seed=seed, runtime=runtime, raw=i == 0
            )
            random_curve = curve(random_network(cfg.model, cfg.seed))["probe_knn"]
        history = trained.history
        spent += training_minutes(history)
        networks[name] = NetworkResult(
            arch=cfg.model.arch,
            settings=_settings(cfg),
            history=history,
            training_minutes=trained.minutes,
            budget_minutes=cfg.minutes,
            needed_minutes=round(budget.planned_minutes(name), 2) if budget else None,
            n_fit=trained.n_fit,
            n_validation=trained.n_validation,
            planned_epochs=trained.planned_epochs,
            max_epochs=cfg.epochs,
            stopped=trained.stopped,
            precision=resolve_precision(runtime.device, cfg.precision),
            cpu=cpu_kind(),
            device=accelerator_words(runtime.device),
            evaluation=ev,
            probe=probe,
            random_curve=random_curve,
            seconds=timer.seconds,
        )
    return Study(networks=networks, curve_images=len(curve.labels))


def _settings(cfg: TrainConfig) -> str:
    m = cfg.model
    parts = [f"width {m.width:g}", f"batch {cfg.batch_size}", f"lr {cfg.lr:g}"]
    if not isinstance(m, EdgeNetConfig):  # EdgeNet's seam scoring is its architecture
        parts.insert(0, f"{m.head} head")
    if isinstance(m, VGGConfig) and m.resolution and m.resolution != m.input_size:
        parts.insert(0, f"{m.input_size} px resized to {m.resolution} px")
    if isinstance(m, CFNConfig):
        parts += [
            f"gap {m.gap} px",
            f"tile norm {'on' if m.tile_norm else 'off'}",
            f"grey tiles {m.tile_gray:g}",
        ]
    if isinstance(m, EdgeNetConfig):
        parts.append(f"seam strips {m.border} px")
    if cfg.crop_scale < 1:
        parts.append(f"rescaled crops from {cfg.crop_scale:g} of the side")
    if cfg.mix:
        parts.append(f"{cfg.mix:g} of the images blended")
    if cfg.ema_epochs:
        parts.append(f"weights averaged over {cfg.ema_epochs:g} epochs")
    return ", ".join(parts)
