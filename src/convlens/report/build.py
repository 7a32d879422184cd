"""`convlens report`: run every problem whose inputs are present and write the report."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from convlens import __version__, atomic
from convlens.errors import ConvlensError
from convlens.jigsaw.training.recipes import NETWORKS
from convlens.lock import folder_lock
from convlens.report import problem1, problem2, problem3, summary
from convlens.report.cache import cache_key, cached, is_cached
from convlens.report.document import Document
from convlens.report.results_file import ReportResults, write_results
from convlens.runtime import cpu_kind


@dataclass
class ReportContext:
    out: Path
    seed: int = 0
    problem2: Path | None = None
    problem3: Path | None = None
    weights: str | None = None
    device: str = "auto"
    quick: bool = False  # tiny settings for tests
    networks: tuple[str, ...] = NETWORKS  # Problem 3's de-shuffling networks, side by side
    minutes: float | None = None  # Problem 3's training budget, shared (None: measured need)

    def step(self, text: str) -> None:
        """One line on stderr as each step starts, so a long report never runs in silence."""
        print(f"report: {text}", file=sys.stderr, flush=True)

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    @property
    def cache(self) -> Path:
        return self.out / "cache"


def sections(ctx: ReportContext) -> list[tuple[str, object, dict]]:
    """(name, module, settings) for each section; settings form the cache key."""
    return [
        ("problem1", problem1, {}),
        ("problem2", problem2, problem2.settings(ctx)),
        ("problem3", problem3, problem3.settings(ctx)),
    ]


def build_report(ctx: ReportContext) -> Report:
    """The whole report; one process at a time per output folder (its cache included). Every
    section's inputs are checked first, so a bad one stops the report before any folder is
    made or any step runs."""
    for _, module, _ in sections(ctx):
        if hasattr(module, "check"):
            module.check(ctx)
    try:
        ctx.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConvlensError(f"{ctx.out}: cannot create the report folder ({exc.strerror})") from exc
    with folder_lock(ctx.out):
        return _build(ctx)


@dataclass(frozen=True)
class Report:
    paths: dict[str, Path]
    headings: list[str]
    results: ReportResults


def _build(ctx: ReportContext) -> Report:
    ctx.figures.mkdir(parents=True, exist_ok=True)
    for folder in (ctx.out, ctx.figures, ctx.cache):
        atomic.remove_leftovers(folder)  # temporary files of a report killed while writing
    doc = Document("convlens report: FYS-3033 deep learning home exam")
    sections_done, timings = {}, {}
    keys = {
        name: cache_key(section=name, seed=ctx.seed, quick=ctx.quick, **settings)
        for name, _, settings in sections(ctx)
    }
    estimated = _plan(ctx, keys)
    for name, module, _ in sections(ctx):
        start = time.perf_counter()
        key = keys[name]
        ctx.step(f"{name} ...")
        results = cached(
            ctx.cache, name, key, lambda m=module, k=key: m.compute(ctx, k), module.RESULTS
        )
        module.render(doc, results, ctx)
        sections_done[name] = results
        timings[name] = round(time.perf_counter() - start, 2)
    all_results = ReportResults(
        convlens_version=__version__,
        seed=ctx.seed,
        **sections_done,
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


def _plan(ctx: ReportContext, keys: dict[str, str]) -> dict[str, float] | None:
    """Each part's expected seconds on this machine, printed before the first expensive step
    (sections already in the cache take none). The quick report, a smoke test, plans nothing."""
    if ctx.quick:
        return None
    ctx.step("measuring this machine to plan the report ...")
    seconds = {}
    for name, module, _ in sections(ctx):
        if hasattr(module, "estimate") and not is_cached(ctx.cache, name, keys[name]):
            for part, sec in module.estimate(ctx, keys[name]).items():
                seconds[f"{name}: {part}"] = round(sec, 1)
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
    return seconds


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
            f"Estimated before the report started: {sum(estimated.values()) / 60:.1f} min for "
            f"the sections it computed; this run took {total / 60:.1f} min in all "
            "(a section read from the cache takes almost none)."
        )
    doc.table(
        rows,
        caption="seconds per section in this run (cached sections take almost none) and per "
        "step when it was computed, with the estimate made before the report started",
    )
