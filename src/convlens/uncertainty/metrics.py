"""Uncertainty and calibration metrics on probability arrays (torch, float64 where it matters)."""

from __future__ import annotations

import numpy as np
import torch


def entropy(p: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy in nats; 0 log 0 = 0."""
    return -(p * torch.log(p.clamp_min(1e-300))).where(p > 0, torch.zeros_like(p)).sum(dim)


def expected_calibration_error(probs, labels, bins: int = 15) -> dict:
    """ECE with equal-width confidence bins (Guo et al. 2017), plus the reliability diagram data.

    ECE = sum_b |B_b| / N * |accuracy(B_b) - confidence(B_b)|, bins (i/M, (i+1)/M].
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    conf = probs.max(1)
    correct = (probs.argmax(1) == labels).astype(np.float64)
    edges = np.linspace(0, 1, bins + 1)
    ece, rows = 0.0, []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (conf > lo) & (conf <= hi)
        n = int(in_bin.sum())
        if n:
            acc, c = correct[in_bin].mean(), conf[in_bin].mean()
            ece += n / len(labels) * abs(acc - c)
            rows.append({"lo": lo, "hi": hi, "count": n, "accuracy": acc, "confidence": c})
        else:
            rows.append({"lo": lo, "hi": hi, "count": 0, "accuracy": None, "confidence": None})
    return {"ece": float(ece), "bins": rows}


def calibration_metrics(probs, labels, bins: int = 15) -> dict:
    """Accuracy, NLL, Brier score (sum over classes, mean over images) and ECE."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    n = len(labels)
    onehot = np.zeros_like(probs)
    onehot[np.arange(n), labels] = 1
    ece = expected_calibration_error(probs, labels, bins)
    return {
        "accuracy": float((probs.argmax(1) == labels).mean()),
        "nll": float(-np.log(np.clip(probs[np.arange(n), labels], 1e-300, None)).mean()),
        "brier": float(((probs - onehot) ** 2).sum(1).mean()),
        "ece": ece["ece"],
        "reliability": ece["bins"],
    }


def uncertainty_vs_errors(uncertainty, wrong) -> dict:
    """Mean uncertainty of right and wrong predictions and the AUROC of uncertainty as an
    error detector (0.5 = no better than chance; None when only one kind occurs)."""
    from sklearn.metrics import roc_auc_score

    u = np.asarray(uncertainty, dtype=np.float64)
    w = np.asarray(wrong, dtype=bool)
    return {
        "mean_correct": float(u[~w].mean()) if (~w).any() else None,
        "mean_wrong": float(u[w].mean()) if w.any() else None,
        "auroc": float(roc_auc_score(w, u)) if 0 < w.sum() < len(w) else None,
    }
