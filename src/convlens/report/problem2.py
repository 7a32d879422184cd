"""Report section for Problem 2: renders what convlens.problem2.section computed (VGG16 on
ImageNet when its weights are present, else the digits demo)."""

from __future__ import annotations

from convlens.data.transforms import CROP, IMAGENET_MEAN, IMAGENET_STD, RESIZE
from convlens.figures.problem2 import draw_problem2
from convlens.models.vgg_sizes import meta_vgg16_sizes
from convlens.problem2 import section
from convlens.problem2.answers import Problem2Results
from convlens.problem2.section import RESULTS, Loaded, check, estimate, settings
from convlens.report import discussion
from convlens.report.document import Document, package_text
from convlens.report.findings import percent, tenth, three
from convlens.sections import Plan, ReportContext, Section


def compute(loaded: Loaded, plan: Plan) -> Problem2Results:
    """The section computed (convlens.problem2.section), with its figures drawn."""
    return section.compute(loaded, plan, draw=draw_problem2)


# --- rendering ----------------------------------------------------------------------------------


def _fig(doc: Document, ctx: ReportContext, name: str | None, caption: str) -> None:
    if name:
        doc.figure(ctx.figures / name, caption)


def render(doc: Document, r: Problem2Results, ctx: ReportContext) -> None:
    if r.user_model:
        doc.heading(f"Problem 2's steps on your model ({r.user_model})")
    else:
        doc.heading("Problem 2: inspecting an ImageNet VGG16")
    if r.demo:
        doc.note(
            "**This section ran on the built-in demo.** The VGG16 ImageNet weights were not "
            f"found ({r.missing_weights}). Every explanation and uncertainty step below ran "
            "on a really trained VGG-style classifier (3x3 convolutions, ReLU, max-pools, a "
            "fully connected head with dropout) on scikit-learn's real handwritten "
            f"digits, with test accuracy {three(r.digits.test_accuracy)}. With the weights "
            "in place, `convlens report` runs the same steps on VGG16.",
            kind="missing",
        )
    for line in r.not_run or []:
        doc.note(f"Not run: {line}.")
    doc.markdown(package_text("explain.md"))
    if not r.user_model:
        doc.markdown(_vgg16_text())
    _accuracy_2b(doc, r)
    _class_models_2c(doc, r, ctx)
    _top5_2d(doc, r, ctx)
    _maps_2ef(doc, r, ctx)
    _mc_dropout_2h(doc, r, ctx)


def _vgg16_text() -> str:
    """2b's background, its sizes counted from our VGG16 and its preprocessing's settings."""
    s = meta_vgg16_sizes()
    return package_text(
        "vgg16.md",
        conv_layers=s.conv_layers,
        blocks=len(s.block_widths),
        block_widths=", ".join(map(str, s.block_widths)),
        input_size=s.input_size,
        grid=s.grid,
        last_width=s.block_widths[-1],
        hidden=", ".join(map(str, s.hidden)),
        dropout=f"{s.dropout:g}",
        parameters=tenth(s.parameters / 1e6),
        head_parameters=tenth(s.head_parameters / 1e6),
        first_fc_parameters=tenth(s.first_fc_parameters / 1e6),
        conv_share=percent(s.conv_share, 1),
        gmacs=tenth(s.gmacs),
        resize=RESIZE,
        crop=CROP,
        mean=str(IMAGENET_MEAN),
        std=str(IMAGENET_STD),
    )


def _accuracy_2b(doc: Document, r: Problem2Results) -> None:
    if r.demo:
        doc.table(
            [
                {"network": "VGG16 (ImageNet, 1000 classes)", "parameters": r.vgg16_parameters},
                {"network": "digits demo: test accuracy", "parameters": r.digits.test_accuracy},
            ],
            caption="(2b) parameter count of our VGG16; validation accuracy needs the weights",
        )
        if r.problem2_found is not None:
            doc.note(
                f"The exam's folder was found ({r.problem2_found.validation} "
                f"validation and {r.problem2_found.test} test images); its accuracy "
                "is reported once the weights are present."
            )
    elif r.validation is not None:
        v = r.validation
        doc.table(
            [
                {
                    "images": v.n,
                    "top-1": v.top1,
                    "top-1 correct": v.top1_correct,
                    "top-5": v.top5,
                    "top-5 correct": v.top5_correct,
                }
            ],
            caption=f"(2b) {r.network}'s accuracy on the exam's validation images",
        )
        doc.discussion(discussion.accuracy_2b(v, r.network))


def _class_models_2c(doc: Document, r: Problem2Results, ctx: ReportContext) -> None:
    doc.heading("2c. Class model visualisations", level=3)
    doc.markdown(package_text("class_viz.md"), demote=2)
    cv = r.class_viz
    doc.table(
        cv.classes,
        caption=f"(2c) {cv.steps} steps of gradient ascent per image "
        f"({cv.precision} network passes), target class probability and score "
        "at the end, without and with blurring",
    )
    _fig(
        doc,
        ctx,
        cv.figure,
        "(2c) class model visualisations: top row without blur, "
        f"bottom row with a Gaussian blur every k = {cv.blur_every} steps",
    )
    doc.discussion(discussion.class_models_2c(cv))
    if r.class_viz_all is not None:
        _fig(doc, ctx, r.class_viz_all.figure, "(2c) every digit class, same settings")


def _top5_2d(doc: Document, r: Problem2Results, ctx: ReportContext) -> None:
    doc.heading("2d. Top-5 predictions", level=3)
    rows = [
        {
            "image": t.image,
            **{f"#{k + 1}": f"{c.name} ({three(c.prob)})" for k, c in enumerate(t.top)},
        }
        for t in r.top5
    ]
    doc.table(rows, caption="(2d) the five most probable classes of each test image")
    doc.discussion(discussion.top5_2d(r.top5))
    for name, row in zip(r.top5_figures, r.top5, strict=False):
        _fig(doc, ctx, name, f"(2d) {row.image} beside the probabilities of its five top classes")
    doc.markdown(package_text("top5.md"), demote=2)


def _maps_2ef(doc: Document, r: Problem2Results, ctx: ReportContext) -> None:
    doc.heading("2e-2f. Saliency maps and guided backpropagation", level=3)
    _fig(
        doc,
        ctx,
        r.explanations.figure,
        "(2e, 2f) each test image, its class saliency "
        "map (Simonyan et al. 3.1) and its guided backpropagation map, for the predicted class",
    )
    doc.markdown(package_text("saliency.md"), demote=2)
    _other_methods(doc, r, ctx)
    q = r.quality
    doc.table(
        q.area_rows(),
        caption=f"Deletion (lower is better) and insertion "
        f"(higher is better) areas over {q.n_images} images",
    )
    if q.layers:
        doc.table(
            q.randomisation_rows(),
            caption="Cascading randomisation: mean Spearman correlation "
            "of the maps with the trained model's maps, layers re-initialised from the top",
        )
    doc.discussion(discussion.maps_2ef(q))


def _other_methods(doc: Document, r: Problem2Results, ctx: ReportContext) -> None:
    """Every other method convlens has, beside the exam's two (the demo and a user's model)."""
    o = r.other_methods
    if o is None:
        return
    _fig(
        doc,
        ctx,
        o.figure,
        "Every method side by side for the predicted class: "
        + ", ".join(["saliency", "guided backprop", *o.methods])
        + (f" (Integrated Gradients from a black image in {o.ig_steps} steps" if o.ig_steps else "")
        + (
            f"; occlusion with a {o.occlusion_window}-pixel window every "
            f"{o.occlusion_stride} pixels)"
            if o.occlusion_window
            else (")" if o.ig_steps else "")
        ),
    )
    doc.markdown(package_text("methods.md"), demote=2)
    for line in o.skipped:
        doc.note(f"Not run: {line}")
    if o.ig_relative_completeness_error:
        doc.discussion(discussion.completeness(o))


def _mc_dropout_2h(doc: Document, r: Problem2Results, ctx: ReportContext) -> None:
    doc.heading("2g-2h. Monte Carlo dropout", level=3)
    doc.markdown(package_text("uncertainty.md"), demote=2)
    u = r.uncertainty
    if u is None:  # a model without dropout (the note at the section's top says so)
        return
    doc.table(
        [
            {
                "image": row.image,
                "MC top-1": row.top[0].name,
                "prob": row.top[0].prob,
                "std": row.top[0].std,
                "dropout-off top-1": row.deterministic_top1.name,
                "entropy": row.predictive_entropy,
                "mutual information": row.mutual_information,
            }
            for row in u.images
        ],
        caption=f"(2h) T = {u.samples} dropout samples per image ({u.path})",
    )
    for name, row in zip(u.figures, u.images, strict=False):
        _fig(
            doc,
            ctx,
            name,
            f"(2h) {row.image} beside the distribution of its top classes' probabilities over "
            f"the {u.samples} dropout samples (violins), with the dropout-off probability marked",
        )
    doc.discussion(discussion.mc_dropout_2h(u, r.calibration))
    c = r.calibration
    if c is not None:
        doc.table(
            c.metric_rows(),
            caption=f"Calibration on {c.n} labelled images (ECE with "
            f"{len(c.deterministic.reliability)} equal-width confidence bins)",
        )
        doc.table(
            c.detection_rows(),
            caption="Uncertainty as an error detector: mean for right and wrong predictions, AUROC",
        )
        _fig(
            doc,
            ctx,
            c.figure,
            f"Reliability diagram on the {c.n} labelled images: accuracy against confidence per "
            "bin, dropout off and MC dropout (the diagonal is perfect calibration)",
        )


SECTION = Section("problem2", RESULTS, settings, check, estimate, compute, render)
