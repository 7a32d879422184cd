"""Report section for Problem 2: VGG16 on ImageNet when its weights are present, else the demo
(a VGG-style classifier trained on real handwritten digits) for every explanation and
uncertainty step."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from convlens import classification, plotting
from convlens.data import denormalize, imagenet_classes, read_image
from convlens.data.images import ImageItem
from convlens.data.problem2 import load_problem2
from convlens.data.transforms import normalized_bounds, preprocess
from convlens.errors import ConvlensError
from convlens.explain import class_model_visualisation, guided_backprop, saliency
from convlens.explain.evaluate import explanation_quality
from convlens.explain.guided_backprop import to_displayable
from convlens.models import vgg16
from convlens.models.weights import load_weights, resolve_checkpoint
from convlens.predict import load_batch, topk
from convlens.report.document import Document, package_text
from convlens.uncertainty import mc_dropout
from convlens.uncertainty.report import calibration_report, per_image_rows, reliability_figure

DEMO_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left")


def _weights_path(ctx) -> tuple[Path | None, str]:
    try:
        return resolve_checkpoint(ctx.weights or "vgg16", download=False), ""
    except ConvlensError as exc:
        return None, str(exc)


def settings(ctx) -> dict:
    path, _ = _weights_path(ctx)
    return {"weights": str(path) if path else None, "problem2": str(ctx.problem2)}


def compute(ctx) -> dict:
    path, missing = _weights_path(ctx)
    if path is None:
        return _compute_demo(ctx, missing)
    return _compute_imagenet(ctx, path)


# --- shared steps -----------------------------------------------------------------------------


def _explanations(ctx, model, x, targets, names, display, prefix: str, titles) -> dict:
    sal = saliency(model, x, targets)
    gbp = guided_backprop(model, x, targets)
    fig = plotting.explanation_rows(
        display,
        {"saliency": list(sal.numpy()), "guided backprop": list(to_displayable(gbp).numpy())},
        titles,
        ctx.figures / f"{prefix}_explanations.png",
    )
    return {"figure": fig.name}


def _explanation_quality(ctx, model, x, targets, steps: int, layers: int | None) -> dict:
    q = explanation_quality(model, x, targets, steps=steps, max_layers=layers, seed=ctx.seed)
    q.pop("mean_curves")
    return q


def _top5(model, x, files, names) -> tuple[torch.Tensor, list[dict]]:
    with torch.no_grad():
        top = topk(model(x), 5)
    rows = [
        {
            "image": f,
            "top": [
                {"name": names[int(c)], "prob": float(p)}
                for c, p in zip(top.indices[j], top.probs[j], strict=True)
            ],
        }
        for j, f in enumerate(files)
    ]
    return top.indices[:, 0], rows


def _class_viz(ctx, model, classes, shape, names, display_fn, prefix, **kw) -> dict:
    plain = class_model_visualisation(model, classes, shape, seed=ctx.seed, **kw)
    blurred = class_model_visualisation(model, classes, shape, seed=ctx.seed, blur_every=5, **kw)
    labels = [names[c] for c in classes]
    fig = plotting.image_grid(
        list(display_fn(plain.images)) + list(display_fn(blurred.images)),
        labels + labels,
        ctx.figures / f"{prefix}_class_viz.png",
        ncols=len(classes),
        row_labels=["no blur", "blur every 5 steps"],
        cmaps=["gray"] * (2 * len(classes)) if shape[0] == 1 else None,
    )
    rows = [
        {
            "class": labels[i],
            "prob_no_blur": plain.prob[-1][i],
            "prob_blur": blurred.prob[-1][i],
            "score_no_blur": plain.score[-1][i],
            "score_blur": blurred.score[-1][i],
            "steps_to_0.9_blur": blurred.steps_to(0.9)[i],
        }
        for i in range(len(classes))
    ]
    return {
        "classes": rows,
        "figure": fig.name,
        "steps": kw.get("steps"),
        "seconds": round(plain.seconds + blurred.seconds, 1),
    }


def _uncertainty(ctx, model, x, names, files, display, prefix, samples) -> dict:
    r = mc_dropout(model, x, samples=samples, seed=ctx.seed)
    rows = per_image_rows(r, names, files)
    figs = []
    for i, f in enumerate(files):
        ids = r.topk_ids[i]
        figs.append(
            plotting.image_with_violins(
                display[i],
                r.samples[:, i, ids].numpy(),
                [names[int(c)] for c in ids],
                f,
                ctx.figures / f"{prefix}_uncertainty_{i}.png",
                deterministic=r.deterministic[i, ids].numpy(),
            ).name
        )
    return {"images": rows, "figures": figs, "samples": samples, "path": r.path}


# --- the demo -----------------------------------------------------------------------------------


def _compute_demo(ctx, missing: str) -> dict:
    from convlens.demo.digits import to_display, train_digits_classifier

    quick = ctx.quick
    model, data, metrics = train_digits_classifier(seed=ctx.seed, epochs=2 if quick else 20)
    names = data.names
    out: dict = {
        "mode": "demo",
        "missing_weights": missing,
        "digits": metrics,
        "vgg16_parameters": sum(p.numel() for p in vgg16().parameters()),
    }
    if ctx.problem2:
        p2 = load_problem2(ctx.problem2)
        out["problem2_found"] = {"validation": len(p2.validation), "test": len(p2.test)}
    # Five test digits: the first four and, when there is one, a later misclassified digit.
    with torch.no_grad():
        pred = model(data.x_test).argmax(1)
    wrong = torch.nonzero(pred != data.y_test).flatten().tolist()
    idx = [0, 1, 2, 3, next((w for w in wrong if w > 3), 4)]
    x = data.x_test[idx]
    files = [f"digit #{i} (true {int(data.y_test[i])})" for i in idx]
    targets, out["top5"] = _top5(model, x, files, names)
    display = list(to_display(x))
    titles = [f"{f}: pred. {names[int(t)]}" for f, t in zip(files, targets, strict=True)]
    out["explanations"] = _explanations(ctx, model, x, targets, names, display, "demo", titles)
    n_eval = 12 if quick else 48
    with torch.no_grad():
        eval_targets = model(data.x_test[:n_eval]).argmax(1)
    out["quality"] = _explanation_quality(
        ctx, model, data.x_test[:n_eval], eval_targets, steps=8 if quick else 32, layers=None
    )
    classes = sorted(random.Random(ctx.seed).sample(range(10), 3))
    from convlens.demo.digits import MEAN, STD

    kw = {
        "steps": 15 if quick else 150,
        "l2": 0.1,
        "decay": 0.02,
        "jitter": 2,
        "blur_sigma": 0.7,
        "clamp": (-MEAN / STD, (1 - MEAN) / STD),
    }
    out["class_viz"] = _class_viz(ctx, model, classes, (1, 32, 32), names, to_display, "demo", **kw)
    if not quick:
        out["class_viz_all"] = _class_viz(
            ctx, model, list(range(10)), (1, 32, 32), names, to_display, "demo_all", **kw
        )
    out["uncertainty"] = _uncertainty(
        ctx, model, x, names, files, display, "demo", samples=20 if quick else 100
    )
    out["calibration"] = calibration_report(
        model, data.x_test, data.y_test.numpy(), samples=10 if quick else 50, seed=ctx.seed
    )
    out["calibration"]["figure"] = reliability_figure(
        out["calibration"], ctx.figures / "demo_reliability.png", title="digits test set"
    )
    return out


# --- the real thing -----------------------------------------------------------------------------


def _test_items(ctx) -> tuple[list[ImageItem], str]:
    if ctx.problem2:
        return load_problem2(ctx.problem2).test, "the exam's five test images"
    import io

    from PIL import Image

    from convlens.demo.photos import bundled_photographs

    photos = bundled_photographs()
    items = []
    for name in DEMO_PHOTOS:
        buf = io.BytesIO()
        Image.fromarray(photos[name]).save(buf, format="PNG")
        items.append(ImageItem(name, buf.getvalue, None))
    return items, "five bundled photographs (the exam's test images were not given)"


def _compute_imagenet(ctx, weights: Path) -> dict:
    quick = ctx.quick
    names = imagenet_classes().names
    model = load_weights(vgg16(init_weights=False), weights).eval()
    out: dict = {"mode": "imagenet", "weights": str(weights)}
    if ctx.problem2:
        p2 = load_problem2(ctx.problem2)
        ev = classification.evaluate(
            model, p2.validation, p2.names, batch_size=16, precision="bf16", progress=True
        )
        classification.write_predictions_csv(ev["rows"], ctx.out / "predictions.csv")
        out["validation"] = {
            k: ev[k] for k in ("n", "top1", "top5", "top1_correct", "top5_correct", "misclassified")
        }
        x_val = load_batch(p2.validation)
        labels = np.array([it.label for it in p2.validation])
        out["calibration"] = calibration_report(
            model, x_val, labels, samples=10 if quick else 30, seed=ctx.seed
        )
        out["calibration"]["figure"] = reliability_figure(
            out["calibration"], ctx.figures / "reliability.png", title="validation images"
        )
    items, where = _test_items(ctx)
    out["test_images"] = where
    x = torch.stack([preprocess(read_image(it)) for it in items])
    files = [Path(it.name).name for it in items]
    targets, out["top5"] = _top5(model, x, files, names)
    display = list(denormalize(x))
    figs = []
    for j, f in enumerate(files):
        figs.append(
            plotting.image_with_topk(
                display[j],
                [t["name"] for t in out["top5"][j]["top"]],
                [t["prob"] for t in out["top5"][j]["top"]],
                f,
                ctx.figures / f"top5_{j}.png",
            ).name
        )
    out["top5_figures"] = figs
    titles = [f"{f}: {names[int(t)]}" for f, t in zip(files, targets, strict=True)]
    out["explanations"] = _explanations(ctx, model, x, targets, names, display, "vgg16", titles)
    out["quality"] = _explanation_quality(
        ctx, model, x, targets, steps=8 if quick else 24, layers=4 if quick else 8
    )
    classes = sorted(random.Random(ctx.seed).sample(range(1000), 3))
    out["class_viz"] = _class_viz(
        ctx,
        model,
        classes,
        (3, 224, 224),
        names,
        denormalize,
        "vgg16",
        steps=20 if quick else 150,
        l2=1e-3,
        blur_sigma=1.0,
        jitter=4,
        clamp=normalized_bounds(),
    )
    out["uncertainty"] = _uncertainty(
        ctx, model, x, names, files, display, "vgg16", samples=10 if quick else 50
    )
    return out


# --- rendering ----------------------------------------------------------------------------------


def _fig(doc: Document, ctx, name: str | None, caption: str) -> None:
    if name:
        doc.figure(ctx.figures / name, caption)


def render(doc: Document, r: dict, ctx) -> None:
    demo = r["mode"] == "demo"
    doc.heading("Problem 2: inspecting an ImageNet VGG16")
    if demo:
        doc.note(
            "**This section ran on the built-in demo.** The VGG16 ImageNet weights were not "
            f"found ({r['missing_weights']}). Every explanation and uncertainty step below ran "
            "on a really trained VGG-style classifier (3x3 convolutions, ReLU, max-pools, a "
            "fully connected head with dropout) on scikit-learn's 1,797 real handwritten "
            f"digits, with test accuracy {r['digits']['test_accuracy']:.3f}. With the weights "
            "in place, `convlens report` runs the same steps on VGG16.",
            kind="missing",
        )
    doc.markdown(package_text("explain.md"))
    doc.markdown(package_text("vgg16.md"))
    if demo:
        doc.table(
            [
                {"network": "VGG16 (ImageNet, 1000 classes)", "parameters": r["vgg16_parameters"]},
                {
                    "network": "digits demo: test accuracy",
                    "parameters": r["digits"]["test_accuracy"],
                },
            ],
            caption="(2b) parameter count of our VGG16; validation accuracy needs the weights",
        )
        if "problem2_found" in r:
            doc.note(
                f"The exam's folder was found ({r['problem2_found']['validation']} "
                f"validation and {r['problem2_found']['test']} test images); its accuracy "
                "is reported once the weights are present."
            )
    else:
        v = r.get("validation")
        if v:
            doc.table(
                [
                    {
                        "images": v["n"],
                        "top-1": v["top1"],
                        "top-1 correct": v["top1_correct"],
                        "top-5": v["top5"],
                        "top-5 correct": v["top5_correct"],
                    }
                ],
                caption="(2b) VGG16 accuracy on the exam's validation images",
            )
    doc.heading("2c. Class model visualisations", level=3)
    doc.markdown(package_text("class_viz.md"), demote=2)
    cv = r["class_viz"]
    doc.table(
        cv["classes"],
        caption=f"(2c) {cv['steps']} steps of gradient ascent per image, "
        "target class probability and score at the end, without and with blurring",
    )
    _fig(
        doc,
        ctx,
        cv["figure"],
        "(2c) class model visualisations: top row without blur, "
        "bottom row with a Gaussian blur every k = 5 steps",
    )
    if "class_viz_all" in r:
        _fig(doc, ctx, r["class_viz_all"]["figure"], "(2c) all ten digit classes, same settings")
    doc.heading("2d. Top-5 predictions", level=3)
    rows = [
        {
            "image": t["image"],
            **{f"#{k + 1}": f"{c['name']} ({c['prob']:.3f})" for k, c in enumerate(t["top"])},
        }
        for t in r["top5"]
    ]
    doc.table(rows, caption="(2d) the five most probable classes of each test image")
    for name in r.get("top5_figures", []):
        _fig(doc, ctx, name, "")
    doc.markdown(package_text("top5.md"), demote=2)
    doc.heading("2e-2f. Saliency maps and guided backpropagation", level=3)
    _fig(
        doc,
        ctx,
        r["explanations"]["figure"],
        "(2e, 2f) each test image, its class saliency "
        "map (Simonyan et al. 3.1) and its guided backpropagation map, for the predicted class",
    )
    doc.markdown(package_text("saliency.md"), demote=2)
    q = r["quality"]
    doc.table(
        q["deletion_insertion"],
        caption=f"Deletion (lower is better) and insertion "
        f"(higher is better) areas over {q['n_images']} images",
    )
    doc.table(
        q["randomisation"],
        caption="Cascading randomisation: mean Spearman correlation "
        "of the maps with the trained model's maps, layers re-initialised from the top",
    )
    doc.heading("2g-2h. Monte Carlo dropout", level=3)
    doc.markdown(package_text("uncertainty.md"), demote=2)
    u = r["uncertainty"]
    doc.table(
        [
            {
                "image": row["file"],
                "MC top-1": row["top"][0]["name"],
                "prob": row["top"][0]["prob"],
                "std": row["top"][0]["std"],
                "dropout-off top-1": row["deterministic_top1"]["name"],
                "entropy": row["predictive_entropy"],
                "mutual information": row["mutual_information"],
            }
            for row in u["images"]
        ],
        caption=f"(2h) T = {u['samples']} dropout samples per image ({u['path']})",
    )
    for name in u["figures"]:
        _fig(doc, ctx, name, "")
    if "calibration" in r:
        c = r["calibration"]
        keys = ("accuracy", "nll", "brier", "ece")
        doc.table(
            [{"model": m, **{k: c[m][k] for k in keys}} for m in ("deterministic", "mc_dropout")],
            caption=f"Calibration on {c['n']} labelled images (ECE with 15 bins)",
        )
        doc.table(
            [{"uncertainty": k, **v} for k, v in c["uncertainty_vs_errors"].items()],
            caption="Uncertainty as an error detector: mean for right and wrong predictions, AUROC",
        )
        _fig(doc, ctx, c.get("figure"), "Reliability diagram")
