"""Report section for Problem 1."""

from __future__ import annotations

from convlens import theory
from convlens.report import discussion
from convlens.report.document import Document, package_text
from convlens.sections import Plan, ReportContext, Section

RESULTS = theory.TheoryResults  # what compute returns and the cache reads back


def settings(ctx: ReportContext) -> dict:
    return {}


def check(ctx: ReportContext) -> None:
    """Problem 1 reads no input."""


def estimate(loaded: None, key: str) -> Plan:
    return Plan()  # seconds: nothing worth planning


def compute(loaded: None, plan: Plan) -> theory.TheoryResults:
    return theory.theory_results(weight=1.0)


def render(doc: Document, results: theory.TheoryResults, ctx: ReportContext) -> None:
    doc.heading("Problem 1: cross-entropy")
    doc.markdown(package_text("theory.md"))
    doc.heading("Numbers for 1b-1d", level=3)
    doc.table(
        results.minimisers,
        ["penalty", "closed_form", "z", "z_numerical", "abs_diff", "objective"],
        caption="(1d) closed-form minimisers beside scipy's SLSQP optimum over the simplex",
    )
    doc.discussion(discussion.minimisers_1d(results.checks))
    doc.table(
        results.non_stochastic,
        ["z", "ce", "comment"],
        caption="(1b) the CE formula -log z0 with y = (1, 0) on vectors that are not stochastic",
    )
    ds = results.dataset_ce
    doc.table(
        [ds],
        ["n", "vectorised", "loop", "operations"],
        caption=f"(1c) dataset cross-entropy of {ds.n} samples: the one-liner against the "
        f"loop of {ds.operations} operations",
    )


SECTION = Section("problem1", RESULTS, settings, check, estimate, compute, render)
