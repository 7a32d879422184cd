"""What the report runs for Problem 3 (the report's own file only renders): the cache's settings
and the study itself on the plan's budget, on the exam's problem3 data when given, else on
exam-format data built from real photographs. Its inputs: convlens.problem3.inputs; its plan:
convlens.problem3.plan."""

from __future__ import annotations

from pathlib import Path

from convlens.fingerprint import fingerprint
from convlens.jigsaw.puzzle.data import NpzData
from convlens.problem3.inputs import K, Loaded, recipes_for, report_runtime
from convlens.problem3.plan import Problem3Plan, keep_budget
from convlens.problem3.study import run_study
from convlens.problem3.study_records import Problem3Results, Study
from convlens.sections import ReportContext


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


RESULTS = Problem3Results  # what compute returns and the cache reads back


def compute(loaded: Loaded, plan: Problem3Plan, draw=None) -> Problem3Results:
    """The study on the plan's budget; its runs in the plan's folder (one per data and
    settings, so an interrupted report resumes the training where its last checkpoint stopped,
    and other data never resume a run trained on something else). `draw(study, folder)` (the
    report's convlens.figures.problem3.draw_study) names the study's figures in its record."""
    ctx, (shuffled, normal), configs = loaded.ctx, loaded.data, loaded.configs
    keep_budget(plan.budget, plan.runs)
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
    keep_budget(plan.shapes_budget, plan.shapes_runs)
    return _study(
        ctx,
        shuffled,
        normal,
        recipes_for(ctx),
        plan.shapes_runs,
        step=lambda text: ctx.step(text.replace("problem3:", "problem3 (digits):")),
        tta=False,
        budget=plan.shapes_budget,
    )


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
        runtime=report_runtime(ctx),
        step=step or ctx.step,
        tta=tta,
        budget=budget,
    )
