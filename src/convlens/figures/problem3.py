"""Problem 3's figures, from the records of convlens.jigsaw, convlens.probe and
convlens.problem3."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from convlens import plotting
from convlens.jigsaw.networks.catalogue import EXAM_BAR
from convlens.jigsaw.puzzle.tiles import deshuffle
from convlens.jigsaw.run_records import Evaluation, minutes
from convlens.probe.probe_records import Probe
from convlens.problem3.deshuffle import Restored
from convlens.problem3.study_records import Study

EXAMPLES = "jigsaw_examples.png"
EMBEDDING = "probe_embedding.png"
FEATURE_CURVE = "feature_curve.png"
LEARNING_CURVES = "deshuffling_curves.png"


def _picture(image: np.ndarray) -> np.ndarray:
    return image.transpose(1, 2, 0) / 255


def examples_figure(ev: Evaluation, path: Path) -> str:
    """Rows of (shuffled, network's restoration, truth) for the evaluation's examples: the
    network's right orders first, then wrong ones."""
    ex = ev.examples
    restored = deshuffle(ex.shuffled, ex.predicted_orders)
    truth = deshuffle(ex.shuffled, ex.true_orders)
    panels, titles = [], []
    for j, (row, ok) in enumerate(zip(ex.rows, ex.right, strict=True)):
        panels += [_picture(ex.shuffled[j]), _picture(restored[j]), _picture(truth[j])]
        titles += [f"shuffled #{row}", f"restored ({'right' if ok else 'wrong'})", "truth"]
    return plotting.image_grid(panels, titles, path, ncols=3, size=1.8).name


def restored_figure(split: str, r: Restored, path: Path, *, show: int = 16) -> str:
    """The first restored images of a split, each with the probability of its order."""
    show = min(show, r.n)
    return plotting.image_grid(
        [_picture(img) for img in r.images[:show]],
        [f"{split} {i}: p={r.probability[i]:.2f}" for i in range(show)],
        path,
        ncols=4,
        size=1.8,
    ).name


def embedding_figure(probe: Probe, path: Path) -> str | None:
    """A 2-D PCA of each feature set's test features, coloured by class (None with fewer than
    three test images, where a PCA means nothing)."""
    from sklearn.decomposition import PCA

    if probe.test_features is None or probe.n_test < 3:
        return None
    points = {
        name: PCA(n_components=2, random_state=0).fit_transform(te)
        for name, te in probe.test_features.items()
    }
    return plotting.embeddings(points, probe.test_labels, path).name


def curve_figure(study: Study, path: Path) -> str:
    """Probe accuracy against training minutes; each network's random twin as a dashed line."""
    series = {
        name: (minutes(n.history), [h.probe_knn for h in n.history])
        for name, n in study.networks.items()
    }
    flat = {f"{name}, random weights": n.random_curve for name, n in study.networks.items()}
    return plotting.curves_with_baselines(
        series, flat, "training minutes", "k-NN accuracy (probe validation)", path
    ).name


def learning_figure(study: Study, path: Path) -> str:
    """Validation image-level accuracy of every network against training minutes, with the
    exam's bar."""
    series = {
        name: (minutes(n.history), [h.val_accuracy for h in n.history])
        for name, n in study.networks.items()
    }
    return plotting.curves_with_baselines(
        series,
        {f"the exam's bar ({EXAM_BAR:.2f})": EXAM_BAR},
        "training minutes",
        "image-level accuracy (validation)",
        path,
        baseline_colour="grey",
    ).name


def draw_study(study: Study, folder: Path) -> Study:
    """Every figure of the report's Problem 3 section: the first network's examples and probe
    embedding, the feature curves and the learning curves; `study` with the names filled in."""
    folder = Path(folder)
    name, first = next(iter(study.networks.items()))
    first = dataclasses.replace(
        first,
        evaluation=dataclasses.replace(
            first.evaluation, figure=examples_figure(first.evaluation, folder / EXAMPLES)
        ),
        probe=dataclasses.replace(
            first.probe, figure=embedding_figure(first.probe, folder / EMBEDDING)
        ),
    )
    study = dataclasses.replace(study, networks={**study.networks, name: first})
    return dataclasses.replace(
        study,
        curve_figure=curve_figure(study, folder / FEATURE_CURVE),
        learning_figure=learning_figure(study, folder / LEARNING_CURVES),
    )
