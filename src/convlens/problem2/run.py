"""Every Problem 2 step, in exam order, on one setup (VGG16 or the demo): the report's
computation, with no rendering in it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from convlens.classification import evaluation, write_predictions_csv
from convlens.explain.quality import explanation_quality
from convlens.predict import load_batch
from convlens.problem2.accuracy import SUMMARY
from convlens.problem2.class_models import class_models
from convlens.problem2.maps import saliency_and_guided_backprop
from convlens.problem2.mc_dropout import mc_dropout_rows
from convlens.problem2.setup import Problem2Setup
from convlens.problem2.top5 import top5
from convlens.uncertainty import mc_dropout
from convlens.uncertainty.report import (
    calibration_from_mc,
    calibration_report,
    reliability_figure,
)


def run_problem2(
    setup: Problem2Setup,
    figures: Path,
    seed: int = 0,
    step: Callable[[str], None] = lambda text: None,
    csv: Path | None = None,
) -> dict:
    """results.json's "problem2" section; `step` is told as each step starts, and the
    section's "seconds" records how long each took."""
    s, model = setup, setup.model
    out: dict = {"mode": s.mode, **s.info}
    seconds: dict[str, float] = {}

    def timed(name: str, text: str):
        step(f"problem2: {text}")
        seconds[name] = time.perf_counter()

    def done(name: str) -> None:
        seconds[name] = round(time.perf_counter() - seconds[name], 2)

    if s.validation is not None:
        # Every validation image is read and preprocessed once, and goes through the network's
        # deterministic part once: its dropout-off output gives 2b's accuracy, and the same
        # Monte Carlo run gives the calibration.
        timed("2b_accuracy_and_calibration", "2b validation accuracy and calibration")
        x_val = load_batch(s.validation)
        labels = np.array([it.label for it in s.validation])
        r = mc_dropout(model, x_val, samples=s.calibration_samples, seed=seed, progress=True)
        ev = evaluation(torch.log(r.deterministic.clamp_min(1e-30)), s.validation, s.names)
        if csv is not None:
            write_predictions_csv(ev["rows"], csv)
        out["validation"] = {k: ev[k] for k in SUMMARY}
        out["calibration"] = calibration_from_mc(r, labels, s.calibration_samples)
        done("2b_accuracy_and_calibration")
    elif s.calibration_images is not None:
        timed("calibration", "calibration with and without MC dropout")
        out["calibration"] = calibration_report(
            model,
            s.calibration_images,
            s.calibration_labels,
            samples=s.calibration_samples,
            seed=seed,
            progress=True,
        )
        done("calibration")
    if "calibration" in out:
        title = "validation images" if s.mode == "imagenet" else "digits test set"
        out["calibration"]["figure"] = reliability_figure(
            out["calibration"], figures / f"{s.prefix}_reliability.png", title=title
        )

    timed("2d_top5", "2d top-5 predictions")
    # The test images' one deterministic pass: Monte Carlo dropout (2h) computes the dropout-off
    # output on the way, which is 2d's prediction; 2h's samples cost only the classifier head.
    mc_test = mc_dropout(model, s.images, samples=s.samples, seed=seed, progress=True)
    t5 = top5(
        model,
        s.images,
        s.files,
        s.names,
        s.display,
        figures if s.mode == "imagenet" else None,
        prefix=f"{s.prefix}_top5",
        probs=mc_test.deterministic,
    )
    out["top5"], out["top5_figures"] = t5["rows"], t5["figures"]
    targets = torch.tensor(t5["predicted"])
    done("2d_top5")

    timed("2ef_maps", "2e-2f saliency maps and guided backpropagation")
    maps = saliency_and_guided_backprop(
        model,
        s.images,
        targets,
        s.files,
        s.names,
        s.display,
        figures / f"{s.prefix}_explanations.png",
        seed=seed,
    )
    out["explanations"] = {"rows": maps["rows"], "figure": maps["figure"]}
    done("2ef_maps")

    timed("explanation_checks", "deletion/insertion and randomisation checks")
    if s.eval_images is not None:  # the demo checks more labelled images than its five
        x_eval, given = s.eval_images, None
        with torch.no_grad():
            eval_targets = model(x_eval).argmax(1)
    else:  # the test images: 2e/2f's maps are the trained model's maps
        x_eval, eval_targets = s.images, targets
        given = {"saliency": maps["saliency"], "guided backprop": maps["guided_backprop"]}
    q = explanation_quality(
        model,
        x_eval,
        eval_targets,
        steps=s.quality["steps"],
        max_layers=s.quality["max_layers"],
        seed=seed,
        maps=given,
        progress=True,
    )
    q.pop("mean_curves")
    out["quality"] = q
    done("explanation_checks")

    timed("2c_class_models", "2c class model visualisations, without and with blur")
    runs = [("class_viz", s.classes, "class_viz")]
    if s.all_classes:  # the demo's ten digits fit one figure
        runs.append(("class_viz_all", list(range(len(s.names))), "all_class_viz"))
    for key, classes, name in runs:
        cv = class_models(
            model,
            classes,
            tuple(s.images.shape[1:]),
            s.names,
            s.display,
            figures / f"{s.prefix}_{name}.png",
            seed=seed,
            progress=True,
            **s.class_viz,
        )
        out[key] = {k: v for k, v in cv.items() if not k.startswith("images_")}
    done("2c_class_models")

    timed("2h_mc_dropout", "2h Monte Carlo dropout on the test images")
    out["uncertainty"] = mc_dropout_rows(
        model,
        s.images,
        s.files,
        s.names,
        s.display,
        figures,
        prefix=f"{s.prefix}_uncertainty",
        samples=s.samples,
        seed=seed,
        result=mc_test,
    )
    done("2h_mc_dropout")
    out["seconds"] = seconds
    return out
