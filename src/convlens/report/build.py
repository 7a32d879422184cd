"""`convlens report`: run every problem whose inputs are present and write the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from convlens import __version__, atomic
from convlens.errors import ConvlensError
from convlens.lock import folder_lock
from convlens.report import problem1, problem2, problem3, summary
from convlens.report.cache import cache_key, cached, is_cached
from convlens.report.document import Document
from convlens.report.findings import tenth
from convlens.report.results_file import ReportResults, write_results
from convlens.runtime import Runtime, cpu_kind
from convlens.sections import Plan, ReportContext, Section
from convlens.timing import StepTimer


def sections(ctx: ReportContext) -> list[Section]:
    """The report's sections, in order (convlens.sections.Section: check, estimate, compute)."""
    return [problem1.SECTION, problem2.SECTION, problem3.SECTION]


def build_report(ctx: ReportContext) -> Report:
    """The whole report; one process at a time per output folder (its cache included). Every
    section's inputs are checked first, so a bad one stops the report before any folder is
    made or any step runs."""
    Runtime.of(ctx.device)  # --device first: every section computes there
    loaded = {section.name: section.check(ctx) for section in sections(ctx)}
    try:
        ctx.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConvlensError(f"{ctx.out}: cannot create the report folder ({exc.strerror})") from exc
    with folder_lock(ctx.out):
        return _build(ctx, loaded)


@dataclass(frozen=True)
class Report:
    paths: dict[str, Path]
    headings: list[str]
    results: ReportResults


def _build(ctx: ReportContext, loaded: dict) -> Report:
    ctx.figures.mkdir(parents=True, exist_ok=True)
    for folder in (ctx.out, ctx.figures, ctx.cache):
        atomic.remove_leftovers(folder)  # temporary files of a report killed while writing
    doc = Document("convlens report: FYS-3033 deep learning home exam")
    records = {}
    keys = {
        s.name: cache_key(section=s.name, seed=ctx.seed, quick=ctx.quick, **s.settings(ctx))
        for s in sections(ctx)
    }
    plans = plan_sections(ctx, keys, loaded)
    timer = StepTimer(ctx.step)
    for section in sections(ctx):
        name = section.name
        with timer.step(name, f"{name} ..."):
            results = cached(
                ctx.cache,
                name,
                keys[name],
                lambda s=section: s.compute(loaded[s.name], _plan_of(s, plans, loaded, keys)),
                section.record,
                figures=ctx.figures,
                note=ctx.step,
            )
            section.render(doc, results, ctx)
        records[name] = results
    timings = timer.seconds
    estimated = None
    if not ctx.quick:
        estimated = {
            f"{name}: {part}": round(sec, 1)
            for name, plan in plans.items()
            for part, sec in plan.seconds.items()
        }
    all_results = ReportResults(
        convlens_version=__version__,
        seed=ctx.seed,
        **records,
        seconds=timings,
        estimated_seconds=estimated,
    )
    doc.glance = summary.glance_rows(all_results)
    _timing_appendix(doc, all_results)
    ctx.step("writing report.html, report.pdf and results.json")
    write_results(ctx.out / "results.json", all_results)
    paths = doc.write(ctx.out)
    paths["results"] = ctx.out / "results.json"
    return Report(paths=paths, headings=doc.headings, results=all_results)


def _plan_of(section: Section, plans: dict, loaded: dict, keys: dict) -> Plan:
    """The section's plan: made before the report started, or now for a cached entry that
    turned out unusable (damaged, edited, a figure missing) and is computed after all."""
    if section.name not in plans:
        plans[section.name] = section.estimate(loaded[section.name], keys[section.name])
    return plans[section.name]


# The demo's report keeps to these minutes on any CPU (`make report` in a fresh clone adds the
# install): the plan gives Problem 3's training what the other parts leave. issue 43 asks for
# 15 minutes with the install on a 2-core AVX2-only laptop
DEMO_MINUTES = 12.0


def demo_minutes(ctx: ReportContext) -> float | None:
    """The report's minutes where it runs the demo on its own sizes (no Problem 3 data, no
    --minutes), else None: the exam's report trains for what its networks need."""
    return DEMO_MINUTES if ctx.problem3 is None and ctx.minutes is None else None


def fitted_plans(ctx: ReportContext, plans: dict, loaded: dict, seconds: float) -> dict:
    """The plans moved so that their sum is `seconds`, by the sections that can trade minutes
    (Section.fit); said in one line where they moved."""
    total = sum(sum(p.seconds.values()) for p in plans.values())
    moved = dict(plans)
    for s in sections(ctx):
        if s.name in plans and s.fit is not None:
            moved[s.name] = s.fit(loaded[s.name], plans[s.name], seconds - total)
            break
    after = sum(sum(p.seconds.values()) for p in moved.values())
    if after - seconds >= 30:
        ctx.step(
            f"plan: the demo would keep to {seconds / 60:.0f} min, but on this machine its "
            f"networks need about {after / 60:.0f} min to train the epochs each clears its bar "
            f"with ({total / 60:.1f} min at need)"
        )
    elif abs(after - total) >= 30:
        ctx.step(
            f"plan: the demo keeps to {seconds / 60:.0f} min: Problem 3 trains "
            f"{'longer' if after > total else 'shorter'} than its networks' need "
            f"({total / 60:.1f} min at need)"
        )
    return moved


def plan_sections(ctx: ReportContext, keys: dict[str, str], loaded: dict) -> dict[str, Plan]:
    """Each section's plan (sections already in the cache need none), printed before the first
    expensive step; the quick report, a smoke test, prints none."""
    if not ctx.quick:
        ctx.step("measuring this machine to plan the report ...")
    plans = {
        s.name: s.estimate(loaded[s.name], keys[s.name])
        for s in sections(ctx)
        if not is_cached(ctx.cache, s.name, keys[s.name])
    }
    if ctx.quick:
        return plans
    target = demo_minutes(ctx)
    if target is not None:
        plans = fitted_plans(ctx, plans, loaded, target * 60)
    seconds = {f"{n}: {part}": sec for n, p in plans.items() for part, sec in p.seconds.items()}
    total = sum(seconds.values())
    for section in ("problem2", "problem3"):
        parts = {k.split(": ", 1)[1]: v for k, v in seconds.items() if k.startswith(section)}
        if parts:
            listed = ", ".join(f"{p} {v / 60:.1f}" for p, v in parts.items() if v >= 30)
            ctx.step(
                f"plan: {section} about {sum(parts.values()) / 60:.1f} min"
                + (f" ({listed})" if listed else "")
            )
    ctx.step(
        f"plan: about {total / 60:.0f} min in all on {cpu_kind()} (the appendix sets each part "
        "beside its measured time; `--minutes` sets Problem 3's training budget)"
    )
    return plans


def _timing_appendix(doc: Document, results: ReportResults) -> None:
    """Where the time went: each section (as this run saw it: a cached section takes almost
    none) and each step of Problems 2 and 3 (as measured when it was computed), beside the
    estimate printed before the report started."""
    estimated = results.estimated_seconds or {}
    rows = [{"step": name, "seconds": sec} for name, sec in results.seconds.items()]
    measured = {}
    for section, steps in (
        ("problem2", results.problem2.seconds),
        ("problem3", results.problem3.seconds),
    ):
        for name, sec in steps.items():
            measured[f"{section}: {name}"] = sec
    for step in list(measured) + [s for s in estimated if s not in measured]:
        row = {"step": step, "seconds": measured.get(step)}
        if estimated:
            row["estimated seconds"] = estimated.get(step)
        rows.append(row)
    doc.heading("Appendix: time per step")
    if estimated:
        total = sum(results.seconds.values())
        doc.note(
            f"Estimated before the report started: {tenth(sum(estimated.values()) / 60)} min "
            f"for the sections it computed; this run took {tenth(total / 60)} min in all "
            "(a section read from the cache takes almost none)."
        )
    doc.table(
        rows,
        caption="seconds per section in this run (cached sections take almost none) and per "
        "step when it was computed, with the estimate made before the report started",
    )
