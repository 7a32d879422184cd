"""Report section for Problem 3: de-shuffling and the k-NN probe. What runs lives in
convlens.problem3.section; this file renders its records."""

from __future__ import annotations

from collections import Counter

from convlens.figures.problem3 import draw_study
from convlens.jigsaw.networks.catalogue import EXAM_BAR
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS
from convlens.probe.knn import LINEAR_MAX_DIM, LINEAR_PCA_POWER
from convlens.probe.probe_records import RAW, Probe
from convlens.problem3 import section
from convlens.problem3.budget import TrainingBudget
from convlens.problem3.inputs import Loaded, check
from convlens.problem3.plan import Problem3Plan, estimate, fit
from convlens.problem3.section import RESULTS, settings
from convlens.problem3.study_records import NetworkResult, Problem3Results, Study
from convlens.report import discussion
from convlens.report.document import Document, package_text
from convlens.report.findings import percent
from convlens.report.probe_table import probe_caption, probe_rows, weights_words
from convlens.report.training_minutes import budget_table, budget_text, stopped_words
from convlens.sections import ReportContext, Section


def compute(loaded: Loaded, plan: Problem3Plan) -> Problem3Results:
    """The section computed (convlens.problem3.section), with its figures drawn."""
    return section.compute(loaded, plan, draw=draw_study)


def render(doc: Document, r: Problem3Results, ctx: ReportContext) -> None:
    doc.heading("Problem 3: learning to de-shuffle")
    if r.demo:
        doc.note(
            "**This section ran on the built-in demo.** `problem3.zip` was not given, so the "
            f"de-shuffling data are exam-format puzzles cut from {r.shuffled_source} (train "
            "and test from different photographs), and the k-NN probe uses "
            f"{r.normal_source}. Run `convlens report --problem3 problem3.zip` for the exam's "
            "data.",
            kind="missing",
        )
    doc.markdown(_jigsaw_text())
    _deshuffle_3ab(doc, r, ctx)
    _probe_3c(doc, r.probe, ctx)
    _render_study(doc, r.study, ctx, r.budget, r.mode)
    if r.shapes is not None:
        _render_shapes(doc, r.shapes, r.study)


def _jigsaw_text() -> str:
    """3a-3b's background, with the exam's bar and the wrong orders counted from the orders."""
    moved = Counter(int((p != PERMUTATIONS[0]).sum()) for p in PERMUTATIONS[1:])
    return package_text(
        "jigsaw.md",
        bar=percent(EXAM_BAR),
        wrong=len(PERMUTATIONS) - 1,
        swap=moved[2],
        cycle=moved[3],
        all_four=moved[4],
    )


def _deshuffle_3ab(doc: Document, r: Problem3Results, ctx: ReportContext) -> None:
    """The first network's training curve, every method's accuracy and the examples."""
    doc.table(
        [
            {
                "epoch": h.epoch,
                "train loss": h.train_loss,
                "train accuracy": h.train_accuracy,
                "validation image-level": h.val_accuracy,
                "seconds": h.seconds,
            }
            for h in r.history
        ],
        caption=training_caption(r),
    )
    ev = r.evaluation
    doc.table(
        [
            {
                "method": m,
                "image-level": a.image_accuracy,
                "images right": a.image_correct,
                "quarter-level": a.quarter_accuracy,
                "quarters right": a.quarter_correct,
                "n": a.n,
            }
            for m, a in ev.methods.items()
        ],
        caption=f"(3b) accuracy on {ev.n_test} labelled test images "
        f"(seam temperature {ev.seam_temperature:.3g} and weight {ev.seam_weight:.3g}, "
        f"fitted on {ev.combination_fitted_on})",
    )
    doc.discussion(discussion.deshuffle_3b(ev))
    if ev.tta.startswith("equals"):
        doc.note(
            "Test-time augmentation is not listed separately: this network scores an arrangement "
            "the same whatever order the input came in (EdgeNet by its four seams, the CFN from "
            "tiles seen alone), so the re-shuffled views give exactly the same scores (a "
            "test checks this), and they are not computed."
        )
    doc.figure(
        ctx.figures / ev.figure,
        "(3b) shuffled test images, the network's "
        "restoration and the truth: correct examples first, then mistakes",
    )


def _probe_3c(doc: Document, p: Probe, ctx: ReportContext) -> None:
    """The first network's probe: every feature set, the k sweep and the PCA figure."""
    doc.markdown(package_text("probe.md", k=p.k))
    doc.table(
        [
            {
                "features": row.features,
                "dim": row.dim,
                f"knn{row.k}": row.knn,
                "correct": row.correct,
                "n": row.n,
                f"cosine_knn{row.k}": row.cosine_knn,
                "linear": row.linear,
                "linear probe reads": row.linear_input,
            }
            for row in p.table
        ],
        caption=f"(3c) test accuracy of k-NN (k = {p.k}, the exam's setting), cosine k-NN and a "
        f"linear probe (standardised inputs, logistic regression; inputs wider than "
        f"{LINEAR_MAX_DIM} columns first through a randomized PCA fitted on the training "
        f"images only, {LINEAR_PCA_POWER} power iterations); {p.n_train} training and "
        f"{p.n_test} test images, "
        f"features from the layer '{p.layer}'",
    )
    doc.discussion(discussion.probe_3c(p))
    doc.table(
        [{"features": n, **{f"k={k}": v for k, v in s.items()}} for n, s in p.sweep.items()],
        caption="(3c) k-NN accuracy for several k",
    )
    if p.figure:
        doc.figure(ctx.figures / p.figure, "(3c) PCA of the test features, coloured by class")


def _render_shapes(doc: Document, shapes: Study, photos: Study) -> None:
    doc.markdown(package_text("shapes.md"))
    doc.table(
        [
            {
                "network": name,
                "epochs": len(n.history),
                "minutes": n.training_minutes,
                "stopped at": stopped_words(n),
                "de-shuffling alone": n.alone,
            }
            for name, n in shapes.networks.items()
        ],
        caption="(3a-3b) the networks trained on digit puzzles: image-level accuracy alone on "
        "the test puzzles",
    )
    first = shapes.first.probe
    doc.table(
        probe_rows(shapes.networks),
        caption=probe_caption(first).replace("(3c)", "(3c, digits)", 1),
    )
    doc.discussion(discussion.shapes_3d(photos.networks, shapes.networks))


def validation_words(mode: str, first: NetworkResult) -> str:
    """What a run's validation images are: the demo knows each crop's photograph and holds out
    whole photographs; the exam's file says nothing of where its images came from, so its
    validation images are a random part of the file, which may share photographs with the
    images trained on and then reads higher than unseen photographs would."""
    if mode == "demo":
        return "validation images (photographs held out of training)"
    if first.n_validation is None:
        part = "a random part of the training file"
    else:
        part = f"{first.n_validation} images drawn at random from the training file"
    return f"validation images ({part}, not held-out photographs)"


def _render_study(
    doc: Document, study: Study, ctx: ReportContext, budget: TrainingBudget | None, mode: str
) -> None:
    nets = study.networks
    doc.markdown(package_text("study.md"))
    doc.table(
        [
            {
                "network": name,
                "settings": n.settings,
                "epochs": len(n.history),
                "minutes": n.training_minutes,
                "stopped at": stopped_words(n),
                **{
                    column: n.evaluation.method(m).image_accuracy
                    for column, m in (
                        ("alone", "network"),
                        ("with TTA", "network+tta"),
                        ("with seam score", "network+seam"),
                        ("seam score only", "seam"),
                    )
                },
                "quarter-level (alone)": n.evaluation.network.quarter_accuracy,
            }
            for name, n in nets.items()
        ],
        caption=f"(3a-3b) {len(nets)} network(s) on the same puzzles: image-level accuracy of each "
        "network alone, with test-time augmentation, fused with the seam score, and the seam "
        "score alone, on the same test images",
    )
    validation = validation_words(mode, study.first)
    doc.discussion(discussion.networks_3b(nets, validation))
    if study.learning_figure:
        doc.figure(
            ctx.figures / study.learning_figure,
            f"(3b) image-level accuracy on the {validation} against training "
            "minutes, every network, with the exam's bar",
        )
    first = study.first
    doc.note(f"Trained on {first.machine} in {first.precision}. " + budget_text(nets, budget))
    if budget is not None:
        budget_table(doc, nets)
    doc.table(probe_rows(nets), caption=probe_caption(first.probe))
    doc.discussion(discussion.study_3d(nets))
    if study.curve_figure:
        doc.figure(
            ctx.figures / study.curve_figure,
            f"(3c) the features during training: k-NN accuracy of the best block (standardised) "
            f"on a validation split of {study.curve_images} probe training images after every "
            "epoch, against training minutes; dashed: the same architecture with random weights",
        )
    doc.table(
        [
            {
                "features": c.network
                if c.network == RAW
                else f"{name}, {weights_words(c.network)}",
                "block": c.block,
                "dim": c.dim,
                "standardised": "yes" if c.standardised else "no",
                "validation k-NN": c.val_knn,
                "test k-NN": c.test_knn,
                "chosen": "yes" if c.chosen else "",
            }
            for name, n in nets.items()
            for c in n.probe.layers or []
        ],
        caption="(3c) every candidate of the probe; the test column is shown for completeness "
        "and was never used to choose",
    )


def training_caption(r) -> str:
    """(3a): what the first network trained and validated on, out of the training file."""
    first = r.study.first
    if first.n_fit is None:  # results written before the counts were kept
        images = f"the training file's {r.n_train} images"
    else:
        images = (
            f"{first.n_fit} labelled images of the training file's {r.n_train}, "
            f"{first.n_validation} more held out to validate on"
        )
    return f"(3a) training of {r.arch} on {images} ({r.training_minutes} min on this machine)"


SECTION = Section("problem3", RESULTS, settings, check, estimate, compute, render, fit=fit)
