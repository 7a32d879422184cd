"""Every Problem 2 step, in exam order, on one setup (VGG16 or the demo): the report's
computation, with no rendering and no drawing in it (convlens.figures.problem2 draws)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from convlens.explain.quality import EXAM_METHODS, explanation_quality
from convlens.predict import load_batch, predict_logits
from convlens.problem2.accuracy import validation_accuracy
from convlens.problem2.answers import Problem2Results
from convlens.problem2.class_models import class_models
from convlens.problem2.maps import saliency_and_guided_backprop
from convlens.problem2.mc_dropout import mc_dropout_rows
from convlens.problem2.methods import other_method_maps
from convlens.problem2.setup import Problem2Setup
from convlens.problem2.top5 import top5
from convlens.runtime import Runtime
from convlens.timing import StepTimer
from convlens.uncertainty import mc_dropout
from convlens.uncertainty.calibration import calibration_from_mc, calibration_report


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
    timer = StepTimer(lambda text: step(f"problem2: {text}"))
    validation, calibration = _validation_and_calibration(s, timer, seed, csv)

    with timer.step("2d_top5", "2d top-5 predictions"):
        # The test images' one deterministic pass: Monte Carlo dropout (2h) computes the dropout-off
        # output on the way, which is 2d's prediction; 2h's samples cost only the classifier head.
        mc_test = None
        if s.samples:
            mc_test = mc_dropout(model, s.images, samples=s.samples, seed=seed, runtime=s.runtime)
        probabilities = mc_test.deterministic if mc_test is not None else None
        where = s.runtime.but(precision="fp32")
        k = min(5, len(s.names))  # a model of fewer classes ranks them all
        t5 = top5(
            model, s.images, s.files, s.names, k=k, probabilities=probabilities, runtime=where
        )
        targets = torch.tensor(t5.predicted)

    with timer.step("2ef_maps", "2e-2f saliency maps and guided backpropagation"):
        maps = saliency_and_guided_backprop(
            model,
            s.images,
            targets,
            s.files,
            s.names,
            seed=seed,
            runtime=s.runtime,
            guided="guided backprop" in s.methods,
        )

    other = None
    if set(s.methods) - set(EXAM_METHODS):
        others = ", ".join(m for m in s.methods if m not in EXAM_METHODS)
        with timer.step("2ef_other_methods", f"2e-2f beside the exam's two: {others}"):
            other = other_method_maps(
                model, s.images, targets, s.methods, s.method_settings, s.skipped
            )

    with timer.step("explanation_checks", "deletion/insertion and randomisation checks"):
        quality = _explanation_checks(s, targets, maps, other, seed)

    with timer.step("2c_class_models", "2c class model visualisations, without and with blur"):
        image_shape = tuple(s.images.shape[1:])
        viz = dict(seed=seed, runtime=s.runtime, **s.class_viz)
        class_viz = class_models(model, s.classes, image_shape, s.names, **viz)
        every_class = (
            class_models(model, list(range(len(s.names))), image_shape, s.names, **viz)
            if s.all_classes  # the demo's ten digits fit one figure
            else None
        )

    uncertainty = None
    if mc_test is not None:
        with timer.step("2h_mc_dropout", "2h Monte Carlo dropout on the test images"):
            uncertainty = mc_dropout_rows(
                model, s.images, s.files, s.names, samples=s.samples, seed=seed, result=mc_test
            )
    return Problem2Results(
        mode=s.mode,
        **s.info,
        validation=validation,
        calibration=calibration,
        top5=t5.rows,
        top5_figures=[],
        explanations=maps,
        other_methods=other,
        quality=quality,
        class_viz=class_viz,
        class_viz_all=every_class,
        uncertainty=uncertainty,
        seconds=timer.seconds,
    )


def _validation_and_calibration(s: Problem2Setup, timer: StepTimer, seed: int, csv):
    """2b's accuracy and the calibration (ImageNet's labelled validation images), or the
    calibration alone (the demo's labelled images), or neither."""
    validation = calibration = None
    model = s.model
    if s.validation is not None:
        # Every validation image is read and preprocessed once, and goes through the network's
        # deterministic part once: its dropout-off output gives 2b's accuracy, and the same
        # Monte Carlo run gives the calibration.
        with timer.step("2b_accuracy_and_calibration", "2b validation accuracy and calibration"):
            x_val = load_batch(s.validation, s.transform)
            labels = np.array([it.label for it in s.validation])
            r = None
            if s.samples:  # a model with dropout: its calibration too
                r = mc_dropout(
                    model, x_val, samples=s.calibration_samples, seed=seed, runtime=s.runtime
                )
                calibration = calibration_from_mc(r, labels, s.calibration_samples)
            validation = validation_accuracy(
                model,
                s.validation,
                s.names,
                csv=csv,
                probabilities=r.deterministic if r is not None else None,
                transform=s.transform,
                runtime=s.runtime.but(precision="fp32"),
            )
    elif s.calibration_images is not None:
        with timer.step("calibration", "calibration with and without MC dropout"):
            calibration = calibration_report(
                model,
                s.calibration_images,
                s.calibration_labels,
                samples=s.calibration_samples,
                seed=seed,
                runtime=s.runtime,
            )
    return validation, calibration


def _explanation_checks(s: Problem2Setup, targets, maps, other, seed: int):
    """Deletion/insertion and randomisation checks: on the demo's labelled images (more than its
    five), or on the test images with 2e/2f's maps of the trained model."""
    model = s.model
    if s.eval_images is not None:  # the demo checks more labelled images than its five
        x_eval, given = s.eval_images, None
        where = Runtime(x_eval.device, "fp32")
        eval_targets = predict_logits(model, x_eval, runtime=where).argmax(1).to(x_eval.device)
    else:  # the test images: 2e/2f's maps are the trained model's maps
        x_eval, eval_targets = s.images, targets
        given = {"saliency": maps.saliency, "guided backprop": maps.guided_backprop}
        given = {k: v for k, v in given.items() if v is not None}
        given |= other.maps if other is not None else {}
    return explanation_quality(
        model,
        x_eval,
        eval_targets,
        s.methods,
        settings=s.method_settings,
        steps=s.quality["steps"],
        max_layers=s.quality["max_layers"],
        seed=seed,
        maps=given,
        runtime=s.runtime,
    )
