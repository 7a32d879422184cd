"""Problem 2's figures, from the steps' records (convlens.problem2.answers)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from convlens import plotting
from convlens.explain.attributions import attribution_map
from convlens.explain.guided_backprop import to_displayable
from convlens.explain.quality import ExplanationQuality
from convlens.problem2.answers import (
    ClassModels,
    Maps,
    MethodMaps,
    Problem2Results,
    Top5Row,
    Uncertainty,
)
from convlens.tables import as_rows
from convlens.uncertainty.calibration import Calibration


def top5_figures(
    rows: Sequence[Top5Row], shown: Sequence, folder: Path, *, prefix: str = "top5"
) -> list[str]:
    """One figure per image (`shown`, displayable), the image beside its bar chart."""
    return [
        plotting.image_with_topk(
            shown[j],
            [t.name for t in row.top],
            [t.prob for t in row.top],
            row.image,
            Path(folder) / f"{prefix}_{j}.png",
        ).name
        for j, row in enumerate(rows)
    ]


def class_models_figure(cv: ClassModels, display: Callable, path: Path) -> str:
    """Top row without blur, bottom row with it, one column per class."""
    labels = [c.name for c in cv.classes]
    grey = cv.images_no_blur.shape[1] == 1
    return plotting.image_grid(
        list(display(cv.images_no_blur)) + list(display(cv.images_blur)),
        labels + labels,
        path,
        ncols=len(labels),
        row_labels=["no blur", f"blur every {cv.blur_every} steps"],
        cmaps=["gray"] * (2 * len(labels)) if grey else None,
    ).name


def maps_figure(maps: Maps, shown: Sequence, path: Path) -> str:
    """Each image, its saliency map and its guided backpropagation map, one row per image."""
    return plotting.explanation_rows(
        list(shown), _exam_columns(maps), [f"{r.image}: {r.name}" for r in maps.rows], path
    ).name


def _exam_columns(maps: Maps) -> dict[str, list]:
    """The saliency maps, and the guided backpropagation maps where the model has ReLUs."""
    columns = {"saliency": list(maps.saliency.numpy())}
    if maps.guided_backprop is not None:
        columns["guided backprop"] = list(to_displayable(maps.guided_backprop).numpy())
    return columns


def every_method_figure(maps: Maps, other: MethodMaps, shown: Sequence, path: Path) -> str:
    """Each image and every method's map side by side, one row per image: saliency, guided
    backpropagation (drawn as 2f draws it) and each other method's magnitudes
    (attribution_map: channels folded by their largest |value|), each scaled to its maximum."""
    columns = _exam_columns(maps)
    for name, m in other.maps.items():
        strength = attribution_map(m).cpu()
        peak = strength.flatten(1).amax(1).clamp_min(1e-12).view(-1, 1, 1)
        columns[name] = list((strength / peak).numpy())
    return plotting.explanation_rows(
        list(shown), columns, [f"{r.image}: {r.name}" for r in maps.rows], path, size=2.0
    ).name


def uncertainty_figures(
    u: Uncertainty, shown: Sequence, names: Sequence[str], folder: Path, prefix: str
) -> list[str]:
    """A violin plot of the sampled probabilities of each image's top classes, beside it."""
    r = u.result
    if r is None or r.samples is None:
        return []
    out = []
    for i, row in enumerate(u.images):
        ids = r.topk_ids[i]
        out.append(
            plotting.image_with_violins(
                shown[i],
                r.samples[:, i, ids].numpy(),
                [names[int(c)] for c in ids],
                row.image,
                Path(folder) / f"{prefix}_{i}.png",
                deterministic=r.deterministic[i, ids].numpy(),
            ).name
        )
    return out


def reliability_figure(cal: Calibration, path: Path, title: str = "reliability") -> str:
    """The reliability diagram: dropout off beside MC dropout."""
    curves = {
        "dropout off": as_rows(cal.deterministic.reliability),
        "MC dropout": as_rows(cal.mc_dropout.reliability),
    }
    return plotting.reliability_diagram(curves, path, title=title).name


def attribution_figure(shown, strength, rows: list[dict], method: str, path: Path) -> str:
    """Each image beside its `method` map (B x H x W magnitudes), one row per image."""
    return plotting.explanation_rows(
        list(shown),
        {method: list(strength.cpu().numpy())},
        [f"{r['image']}: {r['name']}" for r in rows],
        path,
    ).name


def deletion_insertion_figures(quality: ExplanationQuality, folder: Path) -> list[str]:
    """deletion.png and insertion.png in `folder`: each map's mean curve of the target's
    probability as pixels are deleted or inserted, most important first."""
    paths = []
    for kind, verb in (("deletion", "deleted"), ("insertion", "inserted")):
        curves = {name: c[kind] for name, c in quality.mean_curves.items()}
        xs = np.linspace(0, 1, len(next(iter(curves.values()))))
        path = folder / f"{kind}.png"
        plotting.lines(curves, f"fraction of pixels {verb}", "target probability", kind, path, x=xs)
        paths.append(path.name)
    return paths


def draw_problem2(
    r: Problem2Results,
    images: torch.Tensor,
    display: Callable,
    names: Sequence[str],
    folder: Path,
    prefix: str,
) -> Problem2Results:
    """Every figure of the report's Problem 2 section; `r` with the figure names filled in."""
    shown = display(images)
    changes = {
        "explanations": dataclasses.replace(
            r.explanations,
            figure=maps_figure(r.explanations, shown, folder / f"{prefix}_explanations.png"),
        ),
        "class_viz": dataclasses.replace(
            r.class_viz,
            figure=class_models_figure(r.class_viz, display, folder / f"{prefix}_class_viz.png"),
        ),
    }
    if r.uncertainty is not None:
        changes["uncertainty"] = dataclasses.replace(
            r.uncertainty,
            figures=uncertainty_figures(
                r.uncertainty, shown, names, folder, f"{prefix}_uncertainty"
            ),
        )
    if r.other_methods is not None and r.other_methods.maps:
        changes["other_methods"] = dataclasses.replace(
            r.other_methods,
            figure=every_method_figure(
                r.explanations, r.other_methods, shown, folder / f"{prefix}_every_method.png"
            ),
        )
    if not r.demo:  # ImageNet photographs: a bar chart beside each
        changes["top5_figures"] = top5_figures(r.top5, shown, folder, prefix=f"{prefix}_top5")
    if r.class_viz_all is not None:
        changes["class_viz_all"] = dataclasses.replace(
            r.class_viz_all,
            figure=class_models_figure(
                r.class_viz_all, display, folder / f"{prefix}_all_class_viz.png"
            ),
        )
    if r.calibration is not None:
        title = "digits test set" if r.demo else "validation images"
        changes["calibration"] = dataclasses.replace(
            r.calibration,
            figure=reliability_figure(r.calibration, folder / f"{prefix}_reliability.png", title),
        )
    return dataclasses.replace(r, **changes)
