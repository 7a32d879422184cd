"""Exam step 3c: k-NN on raw pixels, on the trained de-shuffling network's features,
and on the same architecture with random weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from torch import nn

from convlens.errors import ConvlensError
from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.networks.configs import ModelConfig
from convlens.jigsaw.puzzle.data import NpzData
from convlens.jigsaw.training.checkpoint import load_run
from convlens.jigsaw.training.config import check_images
from convlens.probe.bootstrap import paired_difference
from convlens.probe.features import features, raw_pixels
from convlens.probe.knn import check_probe_labels, compare, searched_ks
from convlens.probe.probe_records import RANDOM, RAW, SECOND_TWIN, TRAINED, Candidate, Choice, Probe
from convlens.probe.search import knn_predictions
from convlens.probe.selection import best, standardise, validation_scores
from convlens.runtime import Runtime
from convlens.seeding import seeded

AUTO = "auto"  # choose block and standardisation on a validation split of the probe's train


def random_network(model_config, seed: int):
    """The same architecture with seeded random initial weights (batch norm at its defaults)."""
    with seeded(seed):
        return build_model(model_config).eval()


def probe_run(
    run: Path,
    data: NpzData,
    *,
    k: int = 3,
    layer: str = AUTO,
    seed: int = 0,
    raw: bool = True,
    runtime: Runtime = Runtime(),
) -> Probe:
    """`probe_model` on the best weights of a training run folder."""
    trained, cfg, _ = load_run(run, device=runtime.device)
    return probe_model(
        trained, cfg.model, data, k=k, layer=layer, seed=seed, raw=raw, runtime=runtime
    )


def check_probe_data(data: NpzData, k: int = 3) -> None:
    """The probe's door: images and class ids for training and testing ('a' to 'd'), with
    classes a k-NN can use."""
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


def probe_model(
    trained: nn.Module,
    model_config: ModelConfig,
    data: NpzData,
    *,
    k: int = 3,
    layer: str = AUTO,
    seed: int = 0,
    raw: bool = True,
    runtime: Runtime = Runtime(),
) -> Probe:
    """k-NN (and cosine k-NN, a k sweep, a linear probe) on the trained network's features, the
    same architecture with random weights and (`raw`) raw pixels."""
    check_probe_data(data, k)
    for part in (data.train, data.test):
        check_images(part.images, model_config, data.source)
    rand = random_network(model_config, seed).to(runtime.device)
    xtr, xte = data.train.images, data.test.images
    networks = {TRAINED: trained, RANDOM: rand}
    ytr, yte = data.train.labels, data.test.labels
    if layer != AUTO:
        sets = {RAW: (raw_pixels(xtr), raw_pixels(xte))} if raw else {}
        for name, net in networks.items():
            tr, te = (features(net, x, [layer], runtime=runtime)[layer] for x in (xtr, xte))
            sets[name] = (tr, te)
        return compare(sets, ytr, yte, k=k, seed=seed, layer=layer)
    sets, predictions, choices, layers = _chosen_sets(networks, data, k, seed, runtime, raw)
    result = compare(sets, ytr, yte, k=k, seed=seed, predictions=predictions, layer=layer)
    differences = _differences(sets, predictions, model_config, data, k, seed, runtime)
    return dataclasses.replace(result, choices=choices, layers=layers, differences=differences)


def _chosen_sets(networks: dict, data: NpzData, k: int, seed: int, runtime: Runtime, raw):
    """Every block of every network (and raw pixels), raw and standardised, scored on a
    validation split of the training images; each network's best choice is then fitted on all
    training images and tested. Returns the chosen feature sets, their test predictions for
    every k of the sweep and the cosine k-NN (one search each, reused by `compare`) and, for
    the report, the
    choices and the whole table (test accuracy of every candidate, never used to choose)."""
    xtr, xte = data.train.images, data.test.images
    ytr, yte = data.train.labels, data.test.labels
    candidates = {RAW: {"pixels": (raw_pixels(xtr), raw_pixels(xte))}} if raw else {}
    for name, net in networks.items():
        tr = features(net, xtr, runtime=runtime)
        te = features(net, xte, runtime=runtime)
        candidates[name] = {b: (tr[b], te[b]) for b in tr}
    sets, predictions, choices, table = {}, {}, {}, []
    ks = searched_ks(k, len(ytr))
    for name, blocks in candidates.items():
        rows = validation_scores(
            {b: tr for b, (tr, _) in blocks.items()}, ytr, k, seed, groups=data.train.groups
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
                Candidate(
                    network=name,
                    block=row["features"],
                    dim=int(tr.shape[1]),
                    standardised=row["standardised"],
                    val_knn=row["val_knn"],
                    test_knn=test,
                    chosen=row is chosen,
                )
            )
            if row is chosen:
                sets[name], predictions[name] = (tr, te), pred
        choices[name] = Choice(chosen["features"], chosen["standardised"], chosen["val_knn"])
    return sets, predictions, choices, table


def _differences(sets, predictions, model_config, data, k, seed, runtime: Runtime):
    """Trained minus random twin on the test images, with paired bootstrap intervals: against
    the twin the probe chose with, and against a second twin (another seed, whose block and
    standardisation are chosen on its own validation split, as the first twin's were), so a
    difference that depends on one lucky initialisation shows."""
    ytr, yte = data.train.labels, data.test.labels
    right = {n: predictions[n]["euclidean"][k] == yte for n in sets if n in predictions}
    twin = random_network(model_config, seed + 1).to(runtime.device)
    tr_all = features(twin, data.train.images, runtime=runtime.but(progress=False))
    chosen = best(validation_scores(tr_all, ytr, k, seed, groups=data.train.groups))
    block = chosen["features"]
    tr = tr_all[block]
    te = features(twin, data.test.images, [block], runtime=runtime.but(progress=False))[block]
    if chosen["standardised"]:
        tr, te = standardise(tr, te)
    second = knn_predictions(tr, ytr, te, (k,))["euclidean"][k] == yte
    trained = right[TRAINED]
    return {
        RANDOM: paired_difference(trained, right[RANDOM], seed=seed),
        SECOND_TWIN: dataclasses.replace(
            paired_difference(trained, second, seed=seed),
            twin_accuracy=float(second.mean()),
            twin_choice=Choice(block, chosen["standardised"], chosen["val_knn"]),
        ),
    }
