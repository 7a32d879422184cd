"""Problem 3's plan for the report (`estimate` -> `Problem3Plan`): each network's share of the
training budget, measured on this machine before training (or the one kept beside an
interrupted report's runs), and what each part is expected to take."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from convlens import atomic
from convlens.jigsaw.networks.catalogue import NETWORKS, shuffle_invariant
from convlens.jigsaw.puzzle.data import NpzData
from convlens.jigsaw.puzzle.tiles import deshuffle
from convlens.problem3.budget import TrainingBudget, budget_dict, plan_budget, read_budget
from convlens.problem3.deshuffle import labelled_train
from convlens.problem3.inputs import DEMO_NEEDED, Loaded, recipes_for, report_runtime, sizes
from convlens.sections import Plan, ReportContext

# The demo's probe whose classes are shapes: every network trained again, on puzzles cut from
# handwritten digits, for this part of the photo networks' budget.
SHAPES_SHARE = 0.08
BUDGET_FILE = "budget.json"


@dataclass(frozen=True)
class Problem3Plan(Plan):
    """The estimate, and what compute needs from it: where the runs go and the training
    budgets (None where the report fixes the epochs, as the quick one does)."""

    runs: Path = Path()
    budget: TrainingBudget | None = None
    shapes_runs: Path | None = None  # the demo's digits study
    shapes_budget: TrainingBudget | None = None


def _budget(ctx: ReportContext, runs: Path, shuffled: NpzData, configs: dict, needed, minutes):
    """The study's shared budget: the one kept beside its runs by an earlier, interrupted
    report (so that every network resumes with the same share), else measured now (None where
    the report fixes the epochs, as the quick one does)."""
    if sizes(ctx.quick).epochs:
        return None
    path = runs / BUDGET_FILE
    if path.exists():
        return read_budget(path)
    images, orders = labelled_train(shuffled)
    originals = deshuffle(images[:256], orders[:256])  # enough for a few measured steps
    return plan_budget(originals, len(images), configs, minutes, needed, report_runtime(ctx))


def keep_budget(budget: TrainingBudget | None, runs: Path) -> None:
    """The budget beside the runs before the first one trains, for a resumed report."""
    if budget is not None and not (runs / BUDGET_FILE).exists():
        runs.mkdir(parents=True, exist_ok=True)
        atomic.write_json(runs / BUDGET_FILE, budget_dict(budget))


def _runs(ctx: ReportContext, key: str) -> Path:
    return ctx.out / "runs" / f"jigsaw-{key[:12]}"


# k-NN and its selection per pair of probe training and test images (seconds), measured on a
# 2-core CPU; the features are timed from each network's measured inference speed
KNN_SECONDS_PER_PAIR = 4e-6
CURVE_IMAGES = 600  # the feature curve after every epoch (convlens.probe.curve)


def estimate(loaded: Loaded, key: str) -> Problem3Plan:
    """Seconds each part is expected to take on this machine: each network's share of the
    training budget (measured, then handed to compute in the plan), its evaluation and its
    probe."""
    ctx, (shuffled, normal), configs = loaded.ctx, loaded.data, loaded.configs
    runs = _runs(ctx, key)
    needed = DEMO_NEEDED if loaded.mode == "demo" else None
    budget = _budget(ctx, runs, shuffled, configs, needed, ctx.minutes)
    seconds = _study_seconds(budget, configs, shuffled, normal, tta=True)
    if loaded.mode != "demo":
        return Problem3Plan(seconds, runs, budget)
    shapes_runs = ctx.out / "runs" / f"jigsaw-{key[:12]}-digits"
    minutes = None if budget is None else SHAPES_SHARE * budget.total_minutes
    digits, digit_normal = loaded.digits
    digit_configs = recipes_for(ctx)
    shapes = _budget(ctx, shapes_runs, digits, digit_configs, DEMO_NEEDED, minutes)
    for part, sec in _study_seconds(shapes, digit_configs, digits, digit_normal, False).items():
        seconds[f"{part} (digits)"] = sec
    return Problem3Plan(seconds, runs, budget, shapes_runs, shapes)


def _study_seconds(budget, configs, shuffled: NpzData, normal: NpzData, tta: bool) -> dict:
    n_train = int(shuffled.train.known.sum())
    n_val = n_train * next(iter(configs.values())).val_fraction
    n_test = int(shuffled.test.known.sum()) if shuffled.test is not None else 0
    n_tr, n_te = len(normal.train.images), len(normal.test.images)
    seconds = {}
    for name, cfg in configs.items():
        need = budget.needs[name] if budget else None
        epochs = need.epochs if need else cfg.epochs
        per_image = need.inference_seconds_per_image if need else 0.0
        training = budget.planned_minutes(name) * 60 if budget else 0.0
        views = 1 if (not tta or shuffle_invariant(cfg.model)) else 25
        seconds[f"3a_training {name}"] = training + epochs * CURVE_IMAGES * per_image
        seconds[f"3b_evaluation {name}"] = (n_test * views + n_val) * per_image
        # features of every probe image through the trained network and two random twins
        seconds[f"3c_probe {name}"] = (
            3 * (n_tr + n_te) * per_image + KNN_SECONDS_PER_PAIR * n_tr * n_te
        )
    return seconds


# The digits study (no bars: its networks are probed) never trains under this share of its need
MIN_FIT = 0.5
# the photo study's networks never train under the demo epochs each was measured above its bar
# with (convlens.jigsaw.networks.catalogue); below them the report runs past its minutes instead
LEAST_EPOCHS = {name: spec.demo_least_epochs for name, spec in NETWORKS.items()}


def _fitted(budget: TrainingBudget, configs: dict, factor: float, least: dict) -> TrainingBudget:
    """`budget` with each network's epochs times `factor`: at least `least` of them (never
    more than its need), at most its recipe's. Its minutes are their sum, and each network's
    share follows its own epochs."""
    needs, floors, total = {}, {}, 0.0
    for name, need in budget.needs.items():
        floors[name] = max(min(least.get(name, 1), need.epochs), 1)
        epochs = min(configs[name].epochs, max(floors[name], need.epochs * factor))
        total += epochs * need.seconds_per_epoch / 60
        needs[name] = dataclasses.replace(need, epochs=max(round(epochs), 1))
    return dataclasses.replace(
        budget, needs=needs, total_minutes=round(total, 2), fitted=True, least=floors
    )


def _scaled(budget: TrainingBudget, configs: dict, factor: float) -> TrainingBudget:
    """`budget` with its minutes times `factor`, shared by need as before, at most every
    recipe's full epochs, with no floors (its networks have no bar to keep)."""
    most = sum(cfg.epochs * budget.needs[n].seconds_per_epoch / 60 for n, cfg in configs.items())
    total = round(min(budget.total_minutes * factor, most), 2)
    return dataclasses.replace(budget, total_minutes=total, fitted=True)


def _factor(minutes, target: float) -> float:
    """The largest factor whose fitted minutes (`minutes(factor)`, rising with it) are within
    `target`; 0 where even the floors exceed it, the most where every recipe fits."""
    low, high = 0.0, 1.0
    while minutes(high) <= target and high < 1e3:
        low, high = high, 2 * high
    if minutes(high) <= target:
        return high
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if minutes(mid) <= target else (low, mid)
    return low


def fit(loaded: Loaded, plan: Problem3Plan, seconds: float, least: dict | None = None):
    """The plan with its training moved by `seconds` (negative: shortened) so that the report
    keeps its minutes: a slower CPU gets the same minutes with fewer epochs, a faster one spends
    its spare minutes on epochs, up to each recipe's most. Every network's epochs move by one
    factor, but a photo network never goes under the demo epochs it was measured above its bar
    with (`least`, by default LEAST_EPOCHS) and the digits study under MIN_FIT of its need:
    where those floors do not fit, the report runs past its minutes and its plan says so.
    A budget kept beside the runs by an interrupted report was fitted when it was made: a
    resumed report keeps it as it is, so every network resumes with the same share."""
    if plan.budget is None or (plan.runs / BUDGET_FILE).exists():
        return plan
    least = LEAST_EPOCHS if least is None else least
    ctx, (shuffled, normal) = loaded.ctx, loaded.data
    digit_configs = recipes_for(ctx) if plan.shapes_budget is not None else {}

    def studies(factor: float):
        photos = _fitted(plan.budget, loaded.configs, factor, least)
        if plan.shapes_budget is None:
            return photos, None
        # its share of the photo study's minutes, moved by the same factor; its networks have
        # no bar to keep, and MIN_FIT of their need still shows the study
        return photos, _scaled(plan.shapes_budget, digit_configs, max(factor, MIN_FIT))

    def minutes(factor: float) -> float:
        return sum(b.total_minutes for b in studies(factor) if b is not None)

    training = minutes(1.0) * 60
    budget, shapes = studies(_factor(minutes, (training + seconds) / 60))
    out = _study_seconds(budget, loaded.configs, shuffled, normal, tta=True)
    if shapes is not None:
        digits, digit_normal = loaded.digits
        for part, sec in _study_seconds(shapes, digit_configs, digits, digit_normal, False).items():
            out[f"{part} (digits)"] = sec
    return Problem3Plan(out, plan.runs, budget, plan.shapes_runs, shapes)
