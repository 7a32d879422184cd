"""Per-image uncertainty rows and labelled-set calibration, as records (convlens.record)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from convlens.record import key
from convlens.runtime import Runtime
from convlens.uncertainty.mc_dropout import MCResult, mc_dropout
from convlens.uncertainty.metrics import calibration_metrics, uncertainty_vs_errors


@dataclass(frozen=True)
class ClassProbability:
    class_id: int
    name: str
    prob: float


@dataclass(frozen=True)
class SampledClass:
    """One of the top classes of the Monte Carlo mean, with its spread over the samples."""

    class_id: int
    name: str
    prob: float
    std: float


@dataclass(frozen=True)
class UncertaintyRow:
    image: str
    top: list[SampledClass]
    predictive_entropy: float
    expected_entropy: float
    mutual_information: float
    deterministic_top1: ClassProbability


@dataclass(frozen=True)
class ReliabilityBin:
    lo: float
    hi: float
    count: int
    accuracy: float | None  # None for an empty bin
    confidence: float | None


@dataclass(frozen=True)
class CalibrationMetrics:
    accuracy: float
    nll: float
    brier: float
    ece: float
    reliability: list[ReliabilityBin]


@dataclass(frozen=True)
class ErrorDetection:
    """How one uncertainty separates right from wrong predictions (None: only one kind)."""

    mean_correct: float | None
    mean_wrong: float | None
    auroc: float | None


@dataclass(frozen=True)
class Calibration:
    n: int
    samples: int
    path: str
    deterministic: CalibrationMetrics
    mc_dropout: CalibrationMetrics
    uncertainty_vs_errors: dict[str, ErrorDetection]
    figure: str | None = key(omit_if_none=True, default=None)

    def metric_rows(self) -> list[dict]:
        """One table row per model (dropout off, MC dropout): accuracy, NLL, Brier, ECE."""
        models = {"deterministic": self.deterministic, "mc_dropout": self.mc_dropout}
        return [
            {"model": name, "accuracy": m.accuracy, "nll": m.nll, "brier": m.brier, "ece": m.ece}
            for name, m in models.items()
        ]

    def detection_rows(self) -> list[dict]:
        """One table row per uncertainty: its means for right and wrong predictions, AUROC."""
        return [
            {
                "uncertainty": name,
                "mean_correct": d.mean_correct,
                "mean_wrong": d.mean_wrong,
                "auroc": d.auroc,
            }
            for name, d in self.uncertainty_vs_errors.items()
        ]


def per_image_rows(r: MCResult, names: Sequence[str], files: Sequence[str]) -> list[UncertaintyRow]:
    rows = []
    for i, f in enumerate(files):
        det = int(r.deterministic[i].argmax())
        rows.append(
            UncertaintyRow(
                image=f,
                top=[
                    SampledClass(int(c), names[int(c)], float(p), float(r.std[i, c]))
                    for c, p in zip(r.topk_ids[i], r.topk_probs[i], strict=True)
                ],
                predictive_entropy=float(r.predictive_entropy[i]),
                expected_entropy=float(r.expected_entropy[i]),
                mutual_information=float(r.mutual_information[i]),
                deterministic_top1=ClassProbability(
                    det, names[det], float(r.deterministic[i, det])
                ),
            )
        )
    return rows


def calibration_report(
    model,
    images: torch.Tensor,
    labels,
    *,
    samples: int = 30,
    seed: int = 0,
    max_rows: int = 4096,
    runtime: Runtime = Runtime(),
) -> Calibration:
    """Deterministic vs MC-dropout calibration, and how uncertainty relates to errors."""
    r = mc_dropout(model, images, samples=samples, seed=seed, max_rows=max_rows, runtime=runtime)
    return calibration_from_mc(r, labels, samples)


def _metrics(probs: np.ndarray, labels: np.ndarray) -> CalibrationMetrics:
    m = calibration_metrics(probs, labels)
    bins = [ReliabilityBin(**b) for b in m.pop("reliability")]
    return CalibrationMetrics(**m, reliability=bins)


def calibration_from_mc(r: MCResult, labels, samples: int) -> Calibration:
    """calibration_report's record from a Monte Carlo dropout result already computed."""
    labels = np.asarray(labels)
    det, mc = r.deterministic.numpy(), r.mean.numpy()
    wrong = mc.argmax(1) != labels
    return Calibration(
        n=int(len(labels)),
        samples=samples,
        path=r.path,
        deterministic=_metrics(det, labels),
        mc_dropout=_metrics(mc, labels),
        uncertainty_vs_errors={
            name: ErrorDetection(**uncertainty_vs_errors(u, wrong))
            for name, u in (
                ("predictive_entropy", r.predictive_entropy.numpy()),
                ("mutual_information", r.mutual_information.numpy()),
                ("one_minus_max_prob", 1 - mc.max(1)),
            )
        },
    )
