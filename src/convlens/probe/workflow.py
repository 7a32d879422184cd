"""The exam's comparison: k-NN on raw pixels, on the trained de-shuffling network's features,
and on the same architecture with random weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from convlens import plotting
from convlens.errors import ConvlensError
from convlens.jigsaw.checkpoint import load_run
from convlens.jigsaw.config import check_images
from convlens.jigsaw.data import NpzData
from convlens.jigsaw.model import build_model
from convlens.probe.blocks import block_features
from convlens.probe.bootstrap import paired_difference
from convlens.probe.features import extract_features, raw_pixels
from convlens.probe.knn import check_probe_labels, compare, searched_ks
from convlens.probe.search import knn_predictions
from convlens.probe.selection import best, standardise, validation_scores

AUTO = "auto"  # choose block and standardisation on a validation split of the probe's train


def random_network(model_config, seed: int):
    """The same architecture with seeded random initial weights (batch norm at its defaults)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build_model(model_config).eval()


def probe_run(
    run: Path,
    data: NpzData,
    k: int = 3,
    layer: str = AUTO,
    seed: int = 0,
    out: Path | None = None,
    device="cpu",
    progress: bool = True,
    distributed=None,
    raw: bool = True,
) -> dict:
    """k-NN (and cosine k-NN, a k sweep, a linear probe) on the trained network's features, the
    same architecture with random weights and (`raw`) raw pixels."""
    if (
        data.train is None
        or data.test is None
        or data.train.labels is None
        or data.test.labels is None
    ):
        raise ConvlensError(f"{data.source}: the probe needs a, b, c and d (images and class ids)")
    try:
        check_probe_labels(data.train.labels, data.test.labels, k)
    except ConvlensError as exc:
        raise ConvlensError(f"{data.source}: {exc}") from None
    trained, cfg, _ = load_run(run, device=device)
    for part in (data.train, data.test):
        check_images(part.images, cfg.model, data.source)
    rand = random_network(cfg.model, seed).to(device)
    xtr, xte = data.train.images, data.test.images
    networks = {"de-shuffling network": trained, "random network": rand}
    if layer == AUTO:
        sets, predictions, extra = _chosen_sets(networks, data, k, seed, device, progress, raw)
    else:
        kw = {"layer": layer, "device": device, "progress": progress, "distributed": distributed}
        sets = {"raw pixels": (raw_pixels(xtr), raw_pixels(xte))} if raw else {}
        for name, net in networks.items():
            sets[name] = (extract_features(net, xtr, **kw), extract_features(net, xte, **kw))
        predictions, extra = {}, {}
    result = compare(
        sets, data.train.labels, data.test.labels, k=k, seed=seed, predictions=predictions
    )
    result.update({"layer": layer, "n_train": len(xtr), "n_test": len(xte), **extra})
    if layer == AUTO:
        result["differences"] = _differences(
            sets, predictions, extra["choices"]["random network"], cfg, data, k, seed, device
        )
    if out is not None and len(xte) >= 3:  # a 2-D PCA needs three points to mean anything
        result["figure"] = str(
            embedding_figure(sets, data.test.labels, out / "probe_embedding.png")
        )
    return result


def _chosen_sets(
    networks: dict, data: NpzData, k: int, seed: int, device, progress: bool, raw: bool
):
    """Every block of every network (and raw pixels), raw and standardised, scored on a
    validation split of the training images; each network's best choice is then fitted on all
    training images and tested. Returns the chosen feature sets, their test predictions for
    every k of the sweep and the cosine k-NN (one search each, reused by `compare`) and, for
    the report, the
    choices and the whole table (test accuracy of every candidate, never used to choose)."""
    xtr, xte = data.train.images, data.test.images
    ytr, yte = data.train.labels, data.test.labels
    candidates = {"raw pixels": {"pixels": (raw_pixels(xtr), raw_pixels(xte))}} if raw else {}
    for name, net in networks.items():
        tr = block_features(net, xtr, device=device, progress=progress)
        te = block_features(net, xte, device=device, progress=progress)
        candidates[name] = {b: (tr[b], te[b]) for b in tr}
    sets, predictions, choices, table = {}, {}, {}, []
    ks = searched_ks(k, len(ytr))
    for name, blocks in candidates.items():
        rows = validation_scores(
            {b: tr for b, (tr, _) in blocks.items()}, ytr, k, seed, data.train.groups
        )
        chosen = best(rows)
        for row in rows:
            tr, te = blocks[row["features"]]
            if row["standardised"]:
                tr, te = standardise(tr, te)
            if row is chosen:  # every k and the cosine k-NN, for compare
                pred = knn_predictions(tr, ytr, te, ks, cosine_ks=(k,))
            else:
                pred = knn_predictions(tr, ytr, te, (k,))
            test = float((pred["euclidean"][k] == yte).mean())
            table.append(
                {
                    "network": name,
                    "block": row["features"],
                    "dim": int(tr.shape[1]),
                    "standardised": row["standardised"],
                    "val_knn": row["val_knn"],
                    "test_knn": test,
                    "chosen": row is chosen,
                }
            )
            if row is chosen:
                sets[name], predictions[name] = (tr, te), pred
        choices[name] = {
            "block": chosen["features"],
            "standardised": chosen["standardised"],
            "val_knn": chosen["val_knn"],
        }
    return sets, predictions, {"choices": choices, "layers": table}


def _differences(sets, predictions, random_choice, cfg, data, k, seed, device) -> dict:
    """Trained minus random twin on the test images, with paired bootstrap intervals: against
    the twin the probe chose with, and against a second twin (another seed, the same block and
    standardisation), so a difference that depends on one lucky initialisation shows."""
    ytr, yte = data.train.labels, data.test.labels
    right = {n: predictions[n]["euclidean"][k] == yte for n in sets if n in predictions}
    twin = random_network(cfg.model, seed + 1).to(device)
    block = random_choice["block"]
    tr = block_features(twin, data.train.images, device=device, progress=False)[block]
    te = block_features(twin, data.test.images, device=device, progress=False)[block]
    if random_choice["standardised"]:
        tr, te = standardise(tr, te)
    second = knn_predictions(tr, ytr, te, (k,))["euclidean"][k] == yte
    trained = right["de-shuffling network"]
    return {
        "random network": paired_difference(trained, right["random network"], seed=seed),
        "random network, second seed": paired_difference(trained, second, seed=seed)
        | {"twin_accuracy": float(second.mean())},
    }


def embedding_figure(sets: dict, labels: np.ndarray, path: Path) -> Path:
    from sklearn.decomposition import PCA

    points = {
        name: PCA(n_components=2, random_state=0).fit_transform(te)
        for name, (_, te) in sets.items()
    }
    return plotting.embeddings(points, labels, path)
