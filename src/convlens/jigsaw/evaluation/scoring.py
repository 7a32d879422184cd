"""Predicting orders with the network, test-time augmentation, the seam score and their
combination; accuracy at image and quarter level; restoration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from convlens.jigsaw.evaluation.inference import predict_log_probs, predict_with_tta
from convlens.jigsaw.puzzle.permutations import (
    NUM_PERMUTATIONS,
    PERMUTATIONS,
    correct_positions,
    orders_to_classes,
)
from convlens.jigsaw.puzzle.seam_solver import fit_temperature, seam_costs, seam_log_probs
from convlens.jigsaw.puzzle.splits import fixed_shuffles
from convlens.jigsaw.puzzle.tiles import deshuffle
from convlens.jigsaw.run_records import Examples, MethodAccuracy
from convlens.runtime import Runtime

METHODS = ("network", "network+tta", "seam", "network+seam", "network+tta+seam")


def tta_log_probs(model, shuffled: np.ndarray, *, runtime: Runtime = Runtime()) -> torch.Tensor:
    """Average over all 24 re-shuffles of each image, each prediction mapped back
    (convlens.jigsaw.evaluation.inference.predict_with_tta)."""
    return predict_with_tta(model, shuffled, runtime=runtime)[1]


@dataclass
class Combination:
    """How the seam score joins the network: log_softmax(net + weight * log p_seam(T))."""

    temperature: float = 5.0
    weight: float = 1.0
    fitted_on: str = "defaults (no labelled images to fit on)"


@dataclass
class Scores:
    """N x 24 log-probabilities per method."""

    log_probs: dict[str, torch.Tensor]
    combination: Combination


def _combine(net: torch.Tensor, seam: torch.Tensor, weight: float) -> torch.Tensor:
    return torch.log_softmax(net + weight * seam, 1)


def score_all(
    model,
    shuffled: np.ndarray,
    combination: Combination,
    *,
    tta: bool = True,
    costs: torch.Tensor | None = None,
    runtime: Runtime = Runtime(),
) -> Scores:
    """Every method's log-probabilities; `costs`: the images' seam costs when already computed
    (convlens.jigsaw.puzzle.data.Split.seam_costs). With `tta` the network's plain and
    augmented predictions come from one pass."""
    if tta:
        net, augmented = predict_with_tta(model, shuffled, runtime=runtime)
    else:
        net = predict_log_probs(model, shuffled, runtime=runtime)
    costs = seam_costs(shuffled) if costs is None else costs
    seam = seam_log_probs(costs, combination.temperature)
    w = combination.weight
    out = {"network": net, "seam": seam, "network+seam": _combine(net, seam, w)}
    if tta:
        out["network+tta"] = augmented
        out["network+tta+seam"] = _combine(augmented, seam, w)
    return Scores(out, combination)


def fit_combination(
    model,
    originals: np.ndarray,
    *,
    seed: int = 0,
    limit: int = 2000,
    what: str = "held-out validation images",
    runtime: Runtime = Runtime(),
) -> Combination:
    """Fit the seam temperature (seam NLL alone), then the seam's weight beside the network
    (NLL of the combination), on labelled images the network was not trained on."""
    shuffled, classes = fixed_shuffles(originals[:limit], seed)
    costs = seam_costs(shuffled)
    temperature = fit_temperature(costs, classes)
    net = predict_log_probs(model, shuffled, runtime=runtime)
    seam = seam_log_probs(costs, temperature)
    target = torch.as_tensor(classes).view(-1, 1)
    grid = np.linspace(0.0, 2.0, 41)
    nll = [float(-_combine(net, seam, w).gather(1, target).mean()) for w in grid]
    return Combination(temperature, float(grid[int(np.argmin(nll))]), f"{len(classes)} {what}")


def accuracy(log_probs: torch.Tensor, true_orders: np.ndarray) -> MethodAccuracy:
    """Image-level (whole order right) and quarter-level (tiles in the right place)."""
    pred_orders = PERMUTATIONS[log_probs.argmax(1).numpy()]
    n = len(true_orders)
    right_tiles = correct_positions(pred_orders, true_orders)
    images_right = int((right_tiles == 4).sum())
    return MethodAccuracy(
        n=n,
        image_correct=images_right,
        image_accuracy=images_right / n,
        quarter_correct=int(right_tiles.sum()),
        quarter_accuracy=float(right_tiles.sum() / (4 * n)),
    )


def misplaced(log_probs: torch.Tensor, true_orders: np.ndarray) -> dict[str, int]:
    """The wrong predictions by how many tiles they put in the wrong place ("2", "3", "4")."""
    moved = 4 - correct_positions(PERMUTATIONS[log_probs.argmax(1).numpy()], true_orders)
    return {str(k): int((moved == k).sum()) for k in (2, 3, 4)}


def confusion(log_probs: torch.Tensor, true_orders: np.ndarray) -> np.ndarray:
    """24 x 24 counts, rows = true permutation class, columns = predicted."""
    cm = np.zeros((NUM_PERMUTATIONS, NUM_PERMUTATIONS), dtype=np.int64)
    np.add.at(cm, (orders_to_classes(true_orders), log_probs.argmax(1).numpy()), 1)
    return cm


def examples(
    shuffled: np.ndarray, true_orders: np.ndarray, log_probs: torch.Tensor, k: int = 6
) -> Examples:
    """Up to `k` test puzzles for a figure: the first ones the network orders right (at most
    half of `k`), then the first ones it orders wrong, to make up `k`."""
    predicted = PERMUTATIONS[log_probs.argmax(1).numpy()]
    right_rows = (predicted == true_orders).all(1)
    right, wrong = np.flatnonzero(right_rows), np.flatnonzero(~right_rows)
    chosen = list(right[: k // 2]) + list(wrong[: k - min(k // 2, len(right))])
    rows = np.array(chosen, dtype=np.int64)
    return Examples([int(r) for r in rows], shuffled[rows], true_orders[rows], predicted[rows])


def restore(
    shuffled: np.ndarray, log_probs: torch.Tensor
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(restored images, predicted orders, their probabilities)."""
    best = log_probs.argmax(1).numpy()
    orders = PERMUTATIONS[best]
    prob = log_probs.exp().max(1).values.numpy()
    return deshuffle(shuffled, orders), orders, prob
