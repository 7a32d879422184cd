"""Every Problem 2 step, in exam order, on one setup (VGG16 or the demo): the report's
computation, with no rendering and no drawing in it (convlens.figures.problem2 draws)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from convlens.explain.quality import explanation_quality
from convlens.predict import load_batch
from convlens.problem2.accuracy import validation_accuracy
from convlens.problem2.class_models import class_models
from convlens.problem2.maps import saliency_and_guided_backprop
from convlens.problem2.mc_dropout import mc_dropout_rows
from convlens.problem2.results import Problem2Results
from convlens.problem2.setup import Problem2Setup
from convlens.problem2.top5 import top5
from convlens.uncertainty import mc_dropout
from convlens.uncertainty.report import calibration_from_mc, calibration_report


class _Timer:
    """Seconds per step for results.json, and a line as each step starts."""

    def __init__(self, step: Callable[[str], None]):
        self.step, self.seconds = step, {}

    def start(self, name: str, text: str) -> None:
        self.step(f"problem2: {text}")
        self.seconds[name] = time.perf_counter()

    def done(self, name: str) -> None:
        self.seconds[name] = round(time.perf_counter() - self.seconds[name], 2)


def run_problem2(
    setup: Problem2Setup,
    *,
    seed: int = 0,
    step: Callable[[str], None] = lambda text: None,
    csv: Path | None = None,
) -> Problem2Results:
    """results.json's "problem2" section (without figure names); `step` is told as each step
    starts, and the record's `seconds` says how long each took."""
    s, model = setup, setup.model
    timer = _Timer(step)
    validation = calibration = None
    if s.validation is not None:
        # Every validation image is read and preprocessed once, and goes through the network's
        # deterministic part once: its dropout-off output gives 2b's accuracy, and the same
        # Monte Carlo run gives the calibration.
        timer.start("2b_accuracy_and_calibration", "2b validation accuracy and calibration")
        x_val = load_batch(s.validation)
        labels = np.array([it.label for it in s.validation])
        r = mc_dropout(model, x_val, samples=s.calibration_samples, seed=seed, progress=True)
        scores = torch.log(r.deterministic.clamp_min(1e-30))
        validation = validation_accuracy(model, s.validation, s.names, csv=csv, scores=scores)
        calibration = calibration_from_mc(r, labels, s.calibration_samples)
        timer.done("2b_accuracy_and_calibration")
    elif s.calibration_images is not None:
        timer.start("calibration", "calibration with and without MC dropout")
        calibration = calibration_report(
            model,
            s.calibration_images,
            s.calibration_labels,
            samples=s.calibration_samples,
            seed=seed,
            progress=True,
        )
        timer.done("calibration")

    timer.start("2d_top5", "2d top-5 predictions")
    # The test images' one deterministic pass: Monte Carlo dropout (2h) computes the dropout-off
    # output on the way, which is 2d's prediction; 2h's samples cost only the classifier head.
    mc_test = mc_dropout(model, s.images, samples=s.samples, seed=seed, progress=True)
    t5 = top5(model, s.images, s.files, s.names, probs=mc_test.deterministic)
    targets = torch.tensor(t5.predicted)
    timer.done("2d_top5")

    timer.start("2ef_maps", "2e-2f saliency maps and guided backpropagation")
    maps = saliency_and_guided_backprop(model, s.images, targets, s.files, s.names, seed=seed)
    timer.done("2ef_maps")

    timer.start("explanation_checks", "deletion/insertion and randomisation checks")
    if s.eval_images is not None:  # the demo checks more labelled images than its five
        x_eval, given = s.eval_images, None
        with torch.no_grad():
            eval_targets = model(x_eval).argmax(1)
    else:  # the test images: 2e/2f's maps are the trained model's maps
        x_eval, eval_targets = s.images, targets
        given = {"saliency": maps.saliency, "guided backprop": maps.guided_backprop}
    quality = explanation_quality(
        model,
        x_eval,
        eval_targets,
        steps=s.quality["steps"],
        max_layers=s.quality["max_layers"],
        seed=seed,
        maps=given,
        progress=True,
    )
    timer.done("explanation_checks")

    timer.start("2c_class_models", "2c class model visualisations, without and with blur")
    image_shape = tuple(s.images.shape[1:])
    viz = dict(seed=seed, progress=True, **s.class_viz)
    class_viz = class_models(model, s.classes, image_shape, s.names, **viz)
    every_class = (
        class_models(model, list(range(len(s.names))), image_shape, s.names, **viz)
        if s.all_classes  # the demo's ten digits fit one figure
        else None
    )
    timer.done("2c_class_models")

    timer.start("2h_mc_dropout", "2h Monte Carlo dropout on the test images")
    uncertainty = mc_dropout_rows(
        model, s.images, s.files, s.names, samples=s.samples, seed=seed, result=mc_test
    )
    timer.done("2h_mc_dropout")
    return Problem2Results(
        mode=s.mode,
        **s.info,
        validation=validation,
        calibration=calibration,
        top5=t5.rows,
        top5_figures=[],
        explanations=maps,
        quality=quality,
        class_viz=class_viz,
        class_viz_all=every_class,
        uncertainty=uncertainty,
        seconds=timer.seconds,
    )
