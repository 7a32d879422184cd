"""The three jigsaw jobs as library calls: train, evaluate, restore (the CLI only parses)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convlens import atomic, plotting
from convlens.errors import ConvlensError
from convlens.jigsaw.checkpoint import load_run
from convlens.jigsaw.config import TrainConfig, check_images
from convlens.jigsaw.data import NpzData
from convlens.jigsaw.permutations import PERMUTATIONS
from convlens.jigsaw.scoring import (
    METHODS,
    Combination,
    accuracy,
    confusion,
    fit_combination,
    restore,
    score_all,
)
from convlens.jigsaw.splits import split_train_val
from convlens.jigsaw.tiles import deshuffle
from convlens.jigsaw.train import train


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


def run_training(
    data: NpzData,
    run: Path,
    cfg: TrainConfig,
    resume: bool = False,
    progress: bool = True,
    distributed=None,
    epoch_probe=None,
) -> dict:
    images, orders = labelled_train(data)
    check_images(images, cfg.model, data.source)
    cfg.validate()
    return train(
        images,
        orders,
        run,
        cfg,
        resume=resume,
        progress=progress,
        distributed=distributed,
        groups=_known_groups(data),
        epoch_probe=epoch_probe,
    )


def fitted_combination(model, cfg, data: NpzData, device, distributed=None) -> Combination:
    """Fit the seam score's temperature and weight on the run's own validation split.

    The split is rebuilt from the labelled training images exactly as training drew it, so the
    network never saw these images; without labelled training images, defaults are used.
    """
    tr = data.train
    if tr is None or tr.labels is None or not tr.known.any():
        return Combination()
    originals = deshuffle(tr.images[tr.known], tr.labels[tr.known])
    _, val_idx = split_train_val(len(originals), cfg.val_fraction, cfg.seed, _known_groups(data))
    if len(val_idx) < 24:
        return Combination()
    return fit_combination(
        model,
        originals[val_idx],
        seed=cfg.seed,
        device=device,
        precision=cfg.precision if str(device) == "cpu" else "fp32",
        distributed=distributed,
    )


def evaluate_run(
    run: Path,
    data: NpzData,
    out: Path | None = None,
    tta: bool = True,
    device="cpu",
    examples: int = 6,
    distributed=None,
    progress: bool = False,
) -> dict:
    """Every method's image- and quarter-level accuracy on the labelled test split; under
    torchrun the network's inference is sharded over the ranks."""
    model, cfg, ckpt = load_run(run, device=device)
    test = data.test
    if test is None or test.labels is None or not test.known.any():
        raise ConvlensError(f"{data.source}: evaluation needs test images 'c' with orders 'd'")
    images, orders = test.images[test.known], test.labels[test.known]
    check_images(images, cfg.model, data.source)
    combination = fitted_combination(model, cfg, data, device, distributed)
    # EdgeNet scores an arrangement by its seams, whatever order the input came in, so its
    # test-time augmentation equals the plain prediction exactly: skip the 24x cost.
    tta_equivalent = cfg.model.arch == "edgenet"
    scores = score_all(
        model,
        images,
        combination,
        tta=tta and not tta_equivalent,
        device=device,
        precision=cfg.precision if str(device) == "cpu" else "fp32",
        distributed=distributed,
        progress=progress,
    )
    methods = {m: accuracy(scores.log_probs[m], orders) for m in METHODS if m in scores.log_probs}
    best = max(methods, key=lambda m: methods[m]["image_accuracy"])
    result = {
        "run": str(run),
        "epochs_trained": int(ckpt["epoch"]) + 1,
        "n_test": len(images),
        "seam_temperature": combination.temperature,
        "seam_weight": combination.weight,
        "combination_fitted_on": combination.fitted_on,
        "methods": methods,
        "highest_on_test": best,  # a description of the table, not a model selection
        "tta": "equals the network for EdgeNet (shuffle-invariant scores)"
        if tta and tta_equivalent
        else ("computed" if tta else "skipped"),
        "confusion_network": confusion(scores.log_probs["network"], orders).tolist(),
    }
    if out is not None:
        result["figure"] = str(
            examples_figure(
                images, orders, scores.log_probs["network"], out / "jigsaw_examples.png", examples
            )
        )
    return result


def examples_figure(images, orders, log_probs, path: Path, k: int = 6) -> Path:
    """Rows of (shuffled, network's restoration, truth): correct examples first, then wrong."""
    restored, pred, _ = restore(images, log_probs)
    right = np.flatnonzero((pred == orders).all(1))
    wrong = np.flatnonzero(~(pred == orders).all(1))
    chosen = list(right[: k // 2]) + list(wrong[: k - min(k // 2, len(right))])
    panels, titles = [], []
    truth = deshuffle(images, orders)
    for i in chosen:
        ok = "right" if i in right else "wrong"
        panels += [
            images[i].transpose(1, 2, 0) / 255,
            restored[i].transpose(1, 2, 0) / 255,
            truth[i].transpose(1, 2, 0) / 255,
        ]
        titles += [f"shuffled #{i}", f"restored ({ok})", "truth"]
    return plotting.image_grid(panels, titles, path, ncols=3, size=1.8)


def restore_file(
    run: Path,
    data: NpzData,
    out_npz: Path,
    method: str = "network+seam",
    png_dir: Path | None = None,
    device="cpu",
    progress: bool = False,
) -> dict:
    """Restore every image (labelled or not) and write the exam's npz layout."""
    parts = [p for p in (data.train, data.test) if p is not None]
    if not sum(len(p.images) for p in parts):
        raise ConvlensError(f"{data.source}: no images to restore")
    model, cfg, _ = load_run(run, device=device)
    for part in parts:
        check_images(part.images, cfg.model, data.source)
    tta = "tta" in method
    arrays, summary = {}, {}
    combination = fitted_combination(model, cfg, data, device)
    for split, (kx, ky) in (("train", ("a", "b")), ("test", ("c", "d"))):
        part = getattr(data, split)
        if part is None:
            continue
        scores = score_all(
            model, part.images, combination, tta=tta, device=device, progress=progress
        )
        if method not in scores.log_probs:
            raise ConvlensError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
        restored, pred, prob = restore(part.images, scores.log_probs[method])
        arrays[kx], arrays[ky], arrays[f"{ky}_prob"] = restored, pred, prob
        summary[split] = {"n": len(restored), "mean_probability": float(prob.mean())}
        if part.labels is not None and part.known.any():
            summary[split]["accuracy_on_known"] = accuracy(
                scores.log_probs[method][part.known], part.labels[part.known]
            )
        if png_dir is not None:
            show = min(16, len(restored))
            plotting.image_grid(
                [img.transpose(1, 2, 0) / 255 for img in restored[:show]],
                [f"{split} {i}: p={prob[i]:.2f}" for i in range(show)],
                png_dir / f"restored_{split}.png",
                ncols=4,
                size=1.8,
            )
    atomic.save_npz(out_npz, **arrays)
    return {"out": str(out_npz), "method": method, **summary, "orders": PERMUTATIONS.shape[0]}
