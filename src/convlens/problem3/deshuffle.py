"""Exam steps 3a and 3b: train a de-shuffling network, evaluate every de-shuffling method on the
labelled test images, and restore images (the CLI only parses)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from convlens import atomic
from convlens.errors import ConvlensError
from convlens.jigsaw.evaluation.scoring import (
    METHODS,
    Combination,
    accuracy,
    confusion,
    examples,
    fit_combination,
    misplaced,
    restore,
    score_all,
)
from convlens.jigsaw.networks.catalogue import shuffle_invariant, spec_of
from convlens.jigsaw.puzzle.data import NpzData
from convlens.jigsaw.puzzle.splits import labelled_digest, validation_split
from convlens.jigsaw.puzzle.tiles import deshuffle
from convlens.jigsaw.run_records import Evaluation, MethodAccuracy, TrainResult
from convlens.jigsaw.training.checkpoint import load_run
from convlens.jigsaw.training.config import TrainConfig, check_images
from convlens.jigsaw.training.train import train
from convlens.record import key
from convlens.runtime import Runtime


def _known_groups(data: NpzData) -> np.ndarray | None:
    tr = data.train
    return None if tr.groups is None else np.asarray(tr.groups)[tr.known]


def labelled_train(data: NpzData) -> tuple[np.ndarray, np.ndarray]:
    if data.train is None or data.train.labels is None:
        raise ConvlensError(f"{data.source}: training needs images 'a' with orders 'b'")
    known = data.train.known
    images, orders = data.train.images[known], data.train.labels[known]
    if len(images) < 24:
        raise ConvlensError(f"{data.source}: only {len(images)} training images have an order")
    return images, orders


def labelled_test(data: NpzData) -> tuple[np.ndarray, np.ndarray]:
    """The test images 'c' whose orders 'd' are known, and those orders: what 3b evaluates on;
    a file without them is refused in one line."""
    test = data.test
    if test is not None and not len(test.images):
        raise ConvlensError(f"{data.source}: 'c' holds no test images to evaluate on")
    if test is not None and test.labels is not None and not test.known.any():
        raise ConvlensError(
            f"{data.source}: 'd' marks every test image's order as unknown (-1 or NaN); "
            "evaluation needs test images with known orders"
        )
    if test is None or test.labels is None:
        raise ConvlensError(f"{data.source}: evaluation needs test images 'c' with orders 'd'")
    return test.images[test.known], test.labels[test.known]


def run_training(
    data: NpzData,
    run: Path,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    runtime: Runtime = Runtime(),
    epoch_probe=None,
) -> TrainResult:
    images, orders = labelled_train(data)
    return train(  # which checks the settings and the images against the network
        images,
        orders,
        run,
        cfg,
        resume=resume,
        runtime=runtime,
        groups=_known_groups(data),
        epoch_probe=epoch_probe,
        source=data.source,
    )


def _scoring_runtime(cfg: TrainConfig, runtime: Runtime) -> Runtime:
    """Where and how a run's network scores: in its training precision on a CPU, in fp32 on a
    GPU (evaluation, the seam score's fit and restoration all use this one)."""
    return runtime.but(precision=cfg.precision if runtime.device.type == "cpu" else "fp32")


def validation_originals(cfg: TrainConfig, data: NpzData, checkpoint: dict | None):
    """The restored images a run validated on: the rows its checkpoint keeps, when `data` holds
    the labelled images it trained on; else (a run saved before the rows were kept, or other
    data) the split drawn again from `data` as training draws it. None without labelled
    training images."""
    tr = data.train
    if tr is None or tr.labels is None or not tr.known.any():
        return None
    images, orders, groups = tr.images[tr.known], tr.labels[tr.known], _known_groups(data)
    checkpoint = checkpoint or {}
    rows = checkpoint.get("validation_rows")
    if rows is not None and checkpoint.get("data_digest") == labelled_digest(
        images, orders, groups
    ):
        rows = np.asarray(rows, dtype=np.int64)
        return deshuffle(images[rows], orders[rows])
    originals = deshuffle(images, orders)
    _, rows = validation_split(originals, cfg.val_fraction, cfg.seed, cfg.val_split, groups)
    return originals[rows]


def fitted_combination(
    model, cfg, data: NpzData, *, checkpoint: dict | None = None, runtime: Runtime = Runtime()
) -> Combination:
    """Fit the seam score's temperature and weight on the run's validation images (the network
    never trained on them); defaults without labelled training images."""
    val = validation_originals(cfg, data, checkpoint)
    if val is None or len(val) < 24:
        return Combination()
    return fit_combination(model, val, seed=cfg.seed, runtime=_scoring_runtime(cfg, runtime))


def evaluate_run(
    run: Path, data: NpzData, *, tta: bool = True, runtime: Runtime = Runtime()
) -> Evaluation:
    """`evaluate_model` on the best weights of a training run folder."""
    model, cfg, ckpt = load_run(run, device=runtime.device)
    return evaluate_model(model, cfg, data, run=run, checkpoint=ckpt, tta=tta, runtime=runtime)


def evaluate_model(
    model,
    cfg: TrainConfig,
    data: NpzData,
    *,
    run: Path,
    checkpoint: dict,
    tta: bool = True,
    runtime: Runtime = Runtime(),
) -> Evaluation:
    """Every method's image- and quarter-level accuracy on the labelled test split of `data`
    (`run` and its `checkpoint` say which weights these are; the seam score is fitted on the
    run's validation images); under torchrun the network's inference
    is sharded over the ranks."""
    images, orders = labelled_test(data)
    test = data.test
    check_images(images, cfg.model, data.source)
    combination = fitted_combination(model, cfg, data, checkpoint=checkpoint, runtime=runtime)
    # test-time augmentation of a shuffle-invariant network equals its plain prediction
    # exactly: skip the 24x cost
    tta_equivalent = shuffle_invariant(cfg.model)
    scores = score_all(
        model,
        images,
        combination,
        tta=tta and not tta_equivalent,
        costs=test.seam_costs()[torch.from_numpy(test.known)],
        runtime=_scoring_runtime(cfg, runtime),
    )
    methods = {m: accuracy(scores.log_probs[m], orders) for m in METHODS if m in scores.log_probs}
    return Evaluation(
        run=str(run),
        best_epoch=int(checkpoint["epoch"]) + 1,
        n_test=len(images),
        seam_temperature=combination.temperature,
        seam_weight=combination.weight,
        combination_fitted_on=combination.fitted_on,
        methods=methods,
        highest_on_test=max(methods, key=lambda m: methods[m].image_accuracy),
        tta=f"equals the network for {spec_of(cfg.model).display} (shuffle-invariant scores)"
        if tta and tta_equivalent
        else ("computed" if tta else "skipped"),
        misplaced=misplaced(scores.log_probs["network"], orders),
        confusion_network=confusion(scores.log_probs["network"], orders).tolist(),
        examples=examples(images, orders, scores.log_probs["network"]),
    )


@dataclass(frozen=True)
class Restored:
    """One split de-shuffled by `method`: the images, the orders chosen and their probability;
    `accuracy_on_known` where some orders were given."""

    n: int
    mean_probability: float
    images: np.ndarray = key(stored=False)
    orders: np.ndarray = key(stored=False)
    probability: np.ndarray = key(stored=False)
    accuracy_on_known: MethodAccuracy | None = key(omit_if_none=True, default=None)


def restore_images(
    run: Path,
    data: NpzData,
    *,
    method: str = "network+seam",
    runtime: Runtime = Runtime(),
) -> dict[str, Restored]:
    """Every image (labelled or not) de-shuffled by `method`, per split ("train", "test")."""
    parts = [p for p in (data.train, data.test) if p is not None]
    if not sum(len(p.images) for p in parts):
        raise ConvlensError(f"{data.source}: no images to restore")
    if method not in METHODS:
        raise ConvlensError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    model, cfg, ckpt = load_run(run, device=runtime.device)
    for part in parts:
        check_images(part.images, cfg.model, data.source)
    tta = "tta" in method
    summary = {}
    combination = fitted_combination(model, cfg, data, checkpoint=ckpt, runtime=runtime)
    for split in ("train", "test"):
        part = getattr(data, split)
        if part is None:
            continue
        scores = score_all(  # in the precision evaluation uses, so both choose the same orders
            model,
            part.images,
            combination,
            tta=tta,
            costs=part.seam_costs(),
            runtime=_scoring_runtime(cfg, runtime),
        )
        restored, pred, prob = restore(part.images, scores.log_probs[method])
        known = part.labels is not None and part.known.any()
        summary[split] = Restored(
            n=len(restored),
            mean_probability=float(prob.mean()) if len(prob) else float("nan"),
            images=restored,
            orders=pred,
            probability=prob,
            accuracy_on_known=accuracy(
                scores.log_probs[method][part.known], part.labels[part.known]
            )
            if known
            else None,
        )
    return summary


def write_restored(path: Path, restored: dict[str, Restored]) -> Path:
    """The exam's npz layout: a/b (and b_prob) for the training split, c/d (d_prob) for test."""
    arrays = {}
    for split, (kx, ky) in (("train", ("a", "b")), ("test", ("c", "d"))):
        if split in restored:
            r = restored[split]
            arrays[kx], arrays[ky], arrays[f"{ky}_prob"] = r.images, r.orders, r.probability
    return atomic.save_npz(path, **arrays)
