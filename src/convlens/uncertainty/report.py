"""Per-image uncertainty tables and labelled-set calibration, as plain dicts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from convlens.uncertainty.mc_dropout import MCResult, mc_dropout
from convlens.uncertainty.metrics import calibration_metrics, uncertainty_vs_errors


def per_image_rows(r: MCResult, names: Sequence[str], files: Sequence[str]) -> list[dict]:
    rows = []
    for i, f in enumerate(files):
        det = int(r.deterministic[i].argmax())
        rows.append(
            {
                "image": f,
                "top": [
                    {
                        "class_id": int(c),
                        "name": names[int(c)],
                        "prob": float(p),
                        "std": float(r.std[i, c]),
                    }
                    for c, p in zip(r.topk_ids[i], r.topk_probs[i], strict=True)
                ],
                "predictive_entropy": float(r.predictive_entropy[i]),
                "expected_entropy": float(r.expected_entropy[i]),
                "mutual_information": float(r.mutual_information[i]),
                "deterministic_top1": {
                    "class_id": det,
                    "name": names[det],
                    "prob": float(r.deterministic[i, det]),
                },
            }
        )
    return rows


def reliability_figure(rep: dict, path, title: str = "reliability") -> str:
    """The reliability diagram of a calibration_report: dropout off beside MC dropout."""
    from convlens import plotting

    curves = {
        "dropout off": rep["deterministic"]["reliability"],
        "MC dropout": rep["mc_dropout"]["reliability"],
    }
    return plotting.reliability_diagram(curves, path, title=title).name


def calibration_report(
    model,
    images: torch.Tensor,
    labels,
    samples: int = 30,
    seed: int = 0,
    max_rows: int = 4096,
    progress: bool = False,
) -> dict:
    """Deterministic vs MC-dropout calibration, and how uncertainty relates to errors."""
    r = mc_dropout(model, images, samples=samples, seed=seed, max_rows=max_rows, progress=progress)
    return calibration_from_mc(r, labels, samples)


def calibration_from_mc(r: MCResult, labels, samples: int) -> dict:
    """calibration_report's rows from a Monte Carlo dropout result already computed."""
    labels = np.asarray(labels)
    det, mc = r.deterministic.numpy(), r.mean.numpy()
    out = {
        "n": int(len(labels)),
        "samples": samples,
        "path": r.path,
        "deterministic": calibration_metrics(det, labels),
        "mc_dropout": calibration_metrics(mc, labels),
    }
    wrong = mc.argmax(1) != labels
    out["uncertainty_vs_errors"] = {
        "predictive_entropy": uncertainty_vs_errors(r.predictive_entropy.numpy(), wrong),
        "mutual_information": uncertainty_vs_errors(r.mutual_information.numpy(), wrong),
        "one_minus_max_prob": uncertainty_vs_errors(1 - mc.max(1), wrong),
    }
    return out
