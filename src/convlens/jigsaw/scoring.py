"""Predicting orders with the network, test-time augmentation, the seam score and their
combination; accuracy at image and quarter level; restoration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from convlens.jigsaw.inference import predict_log_probs
from convlens.jigsaw.permutations import (
    COMPOSE,
    NUM_PERMUTATIONS,
    PERMUTATIONS,
    correct_positions,
    orders_to_classes,
)
from convlens.jigsaw.results import MethodAccuracy
from convlens.jigsaw.seams import fit_temperature, seam_costs, seam_log_probs
from convlens.jigsaw.splits import fixed_shuffles
from convlens.jigsaw.tiles import deshuffle, shuffle

METHODS = ("network", "network+tta", "seam", "network+seam", "network+tta+seam")


def tta_log_probs(model, shuffled: np.ndarray, **kw) -> torch.Tensor:
    """Average over all 24 re-shuffles of each image, each prediction mapped back.

    If x = shuffle(original, s), then shuffle(x, p) = shuffle(original, s[p]) (COMPOSE[s, p]),
    so the network's log-probability of class COMPOSE[s, p] for the re-shuffled image is
    evidence for s. The 24 views are averaged in log space.
    """
    n = len(shuffled)
    total = torch.zeros(n, NUM_PERMUTATIONS)
    compose = torch.from_numpy(COMPOSE)  # [s, p]
    views = tqdm(
        range(NUM_PERMUTATIONS),
        desc="test-time augmentation (24 views)",
        disable=not kw.get("progress"),
        leave=False,
    )
    kw = {**kw, "progress": False}
    for p in views:
        view = shuffle(shuffled, np.repeat(PERMUTATIONS[p : p + 1], n, axis=0))
        lp = predict_log_probs(model, view, **kw)  # over composed classes
        total += lp[:, compose[:, p]]
    return torch.log_softmax(total / NUM_PERMUTATIONS, dim=1)


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
    **kw,
) -> Scores:
    """Every method's log-probabilities; `costs`: the images' seam costs when already computed
    (convlens.jigsaw.data.Split.seam_costs)."""
    net = predict_log_probs(model, shuffled, **kw)
    costs = seam_costs(shuffled) if costs is None else costs
    seam = seam_log_probs(costs, combination.temperature)
    w = combination.weight
    out = {"network": net, "seam": seam, "network+seam": _combine(net, seam, w)}
    if tta:
        t = tta_log_probs(model, shuffled, **kw)
        out["network+tta"] = t
        out["network+tta+seam"] = _combine(t, seam, w)
    return Scores(out, combination)


def fit_combination(
    model,
    originals: np.ndarray,
    *,
    seed: int = 0,
    limit: int = 2000,
    what: str = "held-out validation images",
    **kw,
) -> Combination:
    """Fit the seam temperature (seam NLL alone), then the seam's weight beside the network
    (NLL of the combination), on labelled images the network was not trained on."""
    shuffled, classes = fixed_shuffles(originals[:limit], seed)
    costs = seam_costs(shuffled)
    temperature = fit_temperature(costs, classes)
    net = predict_log_probs(model, shuffled, **kw)
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


def restore(
    shuffled: np.ndarray, log_probs: torch.Tensor
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(restored images, predicted orders, their probabilities)."""
    best = log_probs.argmax(1).numpy()
    orders = PERMUTATIONS[best]
    prob = log_probs.exp().max(1).values.numpy()
    return deshuffle(shuffled, orders), orders, prob
