"""The exam's comparison: k-NN on raw pixels, on the trained de-shuffling network's features,
and on the same architecture with random weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from convlens import plotting
from convlens.errors import ConvlensError
from convlens.jigsaw.checkpoint import load_run
from convlens.jigsaw.data import NpzData
from convlens.jigsaw.model import build_model
from convlens.probe.features import extract_features, raw_pixels
from convlens.probe.knn import check_probe_labels, compare


def random_network(model_config, seed: int):
    """The same architecture with seeded random initial weights (batch norm at its defaults)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build_model(model_config).eval()


def probe_run(
    run: Path,
    data: NpzData,
    k: int = 3,
    layer: str = "pool",
    seed: int = 0,
    out: Path | None = None,
    device="cpu",
    progress: bool = True,
    distributed=None,
) -> dict:
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
    size = cfg.model.input_size
    if data.train.images.shape[-1] != size:
        raise ConvlensError(
            f"{data.source}: images are {data.train.images.shape[-1]} px, "
            f"the network was trained on {size} px"
        )
    rand = random_network(cfg.model, seed).to(device)
    kw = {"layer": layer, "device": device, "progress": progress, "distributed": distributed}
    xtr, xte = data.train.images, data.test.images
    sets = {
        "raw pixels": (raw_pixels(xtr), raw_pixels(xte)),
        "de-shuffling network": (
            extract_features(trained, xtr, **kw),
            extract_features(trained, xte, **kw),
        ),
        "random network": (extract_features(rand, xtr, **kw), extract_features(rand, xte, **kw)),
    }
    result = compare(sets, data.train.labels, data.test.labels, k=k, seed=seed)
    result.update({"layer": layer, "n_train": len(xtr), "n_test": len(xte)})
    if out is not None and len(xte) >= 3:  # a 2-D PCA needs three points to mean anything
        result["figure"] = str(
            embedding_figure(sets, data.test.labels, out / "probe_embedding.png")
        )
    return result


def embedding_figure(sets: dict, labels: np.ndarray, path: Path) -> Path:
    from sklearn.decomposition import PCA

    points = {
        name: PCA(n_components=2, random_state=0).fit_transform(te)
        for name, (_, te) in sets.items()
    }
    return plotting.embeddings(points, labels, path)
