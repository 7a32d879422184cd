"""What the report runs for Problem 3 (the report's own file only renders): its inputs checked
before the first step, the demo's sizes, each network's recipe, the shared training budget
measured and kept beside the runs, the estimate printed with the report's plan, and the study
itself, on the exam's problem3 data when given, else on exam-format data built from real
photographs."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from convlens import atomic
from convlens.demo.normal_data import digit_study_data
from convlens.demo.photo_probe import photo_study_data
from convlens.errors import ConvlensError
from convlens.fingerprint import fingerprint
from convlens.jigsaw.networks.catalogue import NETWORKS, shuffle_invariant
from convlens.jigsaw.puzzle.data import NpzData, load_npz
from convlens.jigsaw.puzzle.tiles import deshuffle
from convlens.jigsaw.training.config import check_images
from convlens.jigsaw.training.recipes import recipe
from convlens.problem3.budget import TrainingBudget, budget_dict, plan_budget, read_budget
from convlens.problem3.deshuffle import labelled_test, labelled_train
from convlens.problem3.probe import check_probe_data
from convlens.problem3.study import run_study
from convlens.problem3.study_records import Problem3Results, Study
from convlens.runtime import Runtime
from convlens.sections import Plan, ReportContext


def settings(ctx: ReportContext) -> dict:
    return {
        "minutes": ctx.minutes,
        "problem3": str(ctx.problem3),
        "problem3_content": fingerprint(ctx.problem3),
        "problem2": str(ctx.problem2),
        # the demo's puzzles include the problem2 photographs when they are present
        "problem2_content": None if ctx.problem3 else fingerprint(ctx.problem2),
        "networks": list(ctx.networks),
    }


# What the report trains, per mode: the training set sizes of the demo (puzzles for training,
# puzzles for testing, probe crops per photograph for training and testing), and the epochs each
# network needs on that data to clear its bar (the exam's data: convlens.problem3.budget). The
# budget is their sum at the speed measured on this machine, or `--minutes` in all, shared by
# need. The quick report trains one epoch of each. Measured with `make report` on a fresh clone
# held to AVX2 (docs/experiments.md): 4,000 puzzles rather than 2,000 took the CFN from 0.460 to
# 0.55; VGG-11-BN read 0.56-0.71 after 15-21 epochs and 0.755 after 30 (13.6 min in all).
@dataclass(frozen=True)
class Sizes:
    """How much Problem 3 does in one kind of report (the full one or the quick one)."""

    demo_puzzles: tuple[int, int]  # the demo's training and test puzzles
    demo_crops: tuple[int, int]  # the demo probe's crops per photograph, training and test
    digits: tuple[int, int] | None  # the digits study's training and test images (None: all)
    epochs: int | None  # every network's epochs (None: its recipe's, planned by the budget)


SIZES = {
    "full": Sizes((4000, 400), (30, 10), None, None),
    "quick": Sizes((300, 96), (8, 4), (300, 96), 1),
}
DEMO_NEEDED = {name: spec.demo_epochs for name, spec in NETWORKS.items()}
# The demo's probe whose classes are shapes: every network trained again, on puzzles cut from
# handwritten digits, for this part of the photo networks' budget.
SHAPES_SHARE = 0.08
BUDGET_FILE = "budget.json"
K = 3  # the probe's neighbours


def sizes(quick: bool) -> Sizes:
    return SIZES["quick" if quick else "full"]


def _recipes(ctx: ReportContext, side: int = 96) -> dict:
    """Each network's recipe for images of `side` pixels, with the report's seed (and the
    quick report's epochs)."""
    epochs = sizes(ctx.quick).epochs
    extra = {"epochs": epochs} if epochs else {}
    return {name: recipe(name, side, seed=ctx.seed, **extra) for name in ctx.networks}


def _demo_data(ctx: ReportContext) -> tuple[NpzData, NpzData]:
    folders = (
        [ctx.problem2 / "validation_images", ctx.problem2 / "test_images"]
        if (ctx.problem2 and ctx.problem2.is_dir())
        else []
    )
    size = sizes(ctx.quick)
    return photo_study_data(folders, *size.demo_puzzles, *size.demo_crops, seed=ctx.seed)


RESULTS = Problem3Results  # what compute returns and the cache reads back


@dataclass
class Loaded:
    """Problem 3's inputs, read and checked once: the exam's two files, or the demo's puzzles
    cut from photographs (made when first needed: a section read from the cache never needs
    them), and each network's recipe for their image size."""

    ctx: ReportContext
    exam: tuple[NpzData, NpzData] | None

    @property
    def mode(self) -> str:
        return "exam" if self.exam else "demo"

    @functools.cached_property
    def data(self) -> tuple[NpzData, NpzData]:
        """(the puzzles, the probe's labelled images)."""
        return self.exam or _demo_data(self.ctx)

    @functools.cached_property
    def configs(self) -> dict:
        shuffled = self.data[0]
        side = shuffled.train.images.shape[-1] if shuffled.train is not None else 96
        return _recipes(self.ctx, side)

    @functools.cached_property
    def digits(self) -> tuple[NpzData, NpzData]:
        """The demo's digits study's puzzles and probe images."""
        return digit_study_data(limit=sizes(self.ctx.quick).digits, seed=self.ctx.seed)


def check(ctx: ReportContext) -> Loaded:
    """Open and check the section's inputs before the report's first step: both files read and
    validated, with labelled puzzles to train on, test orders to evaluate and classes to probe."""
    if not ctx.problem3:
        return Loaded(ctx, None)
    shuffled = load_npz(ctx.problem3, "DataShuffled.npz", kind="orders")
    normal = load_npz(ctx.problem3, "DataNormal.npz", kind="classes")
    # the doors of the steps that will use them, before the first step runs
    labelled_train(shuffled)
    labelled_test(shuffled)
    check_probe_data(normal, k=K)
    _same_size(shuffled, normal)
    loaded = Loaded(ctx, (shuffled, normal))
    for cfg in loaded.configs.values():  # each network built for these images
        check_images(shuffled.train.images, cfg.model, shuffled.source)
    return loaded


def _same_size(shuffled: NpzData, normal: NpzData) -> None:
    """The probe reads the networks trained on the puzzles: its images need their size."""
    side = tuple(shuffled.train.images.shape[-2:])
    for part in (normal.train, normal.test):
        found = tuple(part.images.shape[-2:])
        if found != side:
            raise ConvlensError(
                f"{normal.source}: images are {found[0]} x {found[1]} px but {shuffled.source}'s "
                f"are {side[0]} x {side[1]}; the probe reads the features of the networks "
                "trained on the puzzles, so both files need one size"
            )


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
    return plan_budget(originals, len(images), configs, minutes, needed, _runtime(ctx))


def _keep(budget: TrainingBudget | None, runs: Path) -> None:
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
    digit_configs = _recipes(ctx)
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


def compute(loaded: Loaded, plan: Problem3Plan, draw=None) -> Problem3Results:
    """The study on the plan's budget; its runs in the plan's folder (one per data and
    settings, so an interrupted report resumes the training where its last checkpoint stopped,
    and other data never resume a run trained on something else). `draw(study, folder)` (the
    report's convlens.figures.problem3.draw_study) names the study's figures in its record."""
    ctx, (shuffled, normal), configs = loaded.ctx, loaded.data, loaded.configs
    _keep(plan.budget, plan.runs)
    study = _study(ctx, shuffled, normal, configs, plan.runs, budget=plan.budget)
    study = draw(study, ctx.figures) if draw else study
    main = study.first
    shapes = _shapes_study(loaded, plan) if loaded.mode == "demo" else None
    return Problem3Results(
        mode=loaded.mode,
        shuffled_source=shuffled.source,
        normal_source=normal.source,
        n_train=int(len(shuffled.train.images)),
        epochs=configs[ctx.networks[0]].epochs,
        arch=ctx.networks[0],
        history=main.history,
        training_minutes=main.training_minutes,
        evaluation=main.evaluation,
        probe=main.probe,
        study=study,
        seconds={
            f"{step_} {name}{suffix}": sec
            for suffix, s in (("", study), (" (digits)", shapes))
            if s is not None
            for name, n in s.networks.items()
            for step_, sec in n.seconds.items()
        },
        shapes=shapes,
        budget=plan.budget,
    )


def _shapes_study(loaded: Loaded, plan: Problem3Plan) -> Study:
    """3c-3d again where the probe's classes are shapes: the same networks trained on digit
    puzzles and probed on the digits (test-time augmentation skipped: only the probe is new)."""
    ctx = loaded.ctx
    shuffled, normal = loaded.digits
    _keep(plan.shapes_budget, plan.shapes_runs)
    return _study(
        ctx,
        shuffled,
        normal,
        _recipes(ctx),
        plan.shapes_runs,
        step=lambda text: ctx.step(text.replace("problem3:", "problem3 (digits):")),
        tta=False,
        budget=plan.shapes_budget,
    )


def _runtime(ctx: ReportContext) -> Runtime:
    """Where Problem 3 computes: the report's --device, with progress bars; its probe reads
    features in fp32, and each network trains and scores in its own run's precision."""
    return Runtime.of(ctx.device, progress=True)


def _study(
    ctx: ReportContext,
    shuffled: NpzData,
    normal: NpzData,
    configs: dict,
    runs: Path,
    *,
    step=None,
    tta: bool = True,
    budget=None,
) -> Study:
    """run_study with the report's settings; `runs` holds the networks' runs."""
    return run_study(
        shuffled,
        normal,
        runs,
        configs,
        k=K,
        seed=ctx.seed,
        runtime=_runtime(ctx),
        step=step or ctx.step,
        tta=tta,
        budget=budget,
    )
