"""Features from a (de-shuffling) VGG without its permutation head, in eval mode: `features`
is the one way the probe reads them, by layer name, blocks included.

Eval mode matters: batch norm must use its running statistics and dropout must be off, or the
features of an image depend on the rest of its batch and on chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import nn

from convlens.engine.forward import batched
from convlens.errors import ConvlensError
from convlens.jigsaw.evaluation.inference import normalise
from convlens.probe.blocks import block_ends, block_features
from convlens.runtime import Runtime

LAYERS = ("pool", "fc1", "fc2")


def features(
    model: nn.Module,
    images: np.ndarray,
    layers: Sequence[str] | None = None,
    *,
    runtime: Runtime = Runtime(),
) -> dict[str, np.ndarray]:
    """{layer: N x D float32 features} of whole, unshuffled images (uint8 N x 3 x H x W), for
    each name in `layers` (default: every block): 'block1', 'block2', ... (each convolutional
    block's output averaged over space, all from one pass through a folded copy: see
    convlens.probe.blocks), 'pool' (the pooled convolutional features), 'fc1', 'fc2'."""
    every_block = [f"block{i + 1}" for i in range(len(block_ends(model)))]
    layers = list(every_block if layers is None else layers)
    unknown = [n for n in layers if n not in every_block and n not in LAYERS]
    if unknown:
        raise ConvlensError(
            f"layer {unknown[0]!r}: choose from {', '.join(every_block + list(LAYERS))}"
        )
    out = {}
    if any(n in every_block for n in layers):
        out |= block_features(model, images, runtime=runtime)
    for name in (n for n in layers if n in LAYERS):
        out[name] = extract_features(model, images, layer=name, runtime=runtime)
    return {name: out[name] for name in layers}


def feature_extractor(model: nn.Module, layer: str = "pool") -> nn.Module:
    """The network cut below its head: pooled convolutional features, or the first/second fully
    connected layer (after its ReLU)."""
    if layer not in LAYERS:
        raise ConvlensError(f"layer must be one of {LAYERS}, got {layer!r}")
    cut = _cut(model, layer)

    class Extractor(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = model

        def forward(self, x):
            return self.net.classifier[:cut](self.net.forward_features(x))

    return Extractor()


def _cut(model: nn.Module, layer: str) -> int:
    """How many classifier modules to keep: up to the ReLU after the n-th Linear of fc-n.

    The last Linear is the head (the 24 orders, or EdgeNet's two seam scores), never a
    feature layer."""
    if layer == "pool":
        return 0
    if hasattr(model, "tile_embeddings"):
        raise ConvlensError(
            f"layer {layer}: the context-free network's fully connected layers read four tiles "
            "at once, not one image; choose auto (its blocks) or pool"
        )
    if not isinstance(model.classifier, nn.Sequential):
        raise ConvlensError(
            f"layer {layer}: this network's head scores pairs of cells, not one image; "
            "choose auto (its blocks) or pool"
        )
    n = int(layer.removeprefix("fc"))
    linear = [i for i, m in enumerate(model.classifier) if isinstance(m, nn.Linear)]
    if n >= len(linear):
        raise ConvlensError(
            f"layer {layer}: {type(model).__name__} has {len(linear) - 1} hidden fully connected "
            f"layer(s) before its head; choose pool" + (" or fc1" if len(linear) > 1 else "")
        )
    return linear[n - 1] + 2  # the Linear and its ReLU


def extract_features(
    model: nn.Module,
    images: np.ndarray,
    *,
    layer: str = "pool",
    batch_size: int = 128,
    runtime: Runtime = Runtime(),
) -> np.ndarray:
    """N x D float32 features of whole, unshuffled images (uint8 N x 3 x H x W).

    Under torchrun (`runtime.distributed`), each rank extracts a contiguous part and every rank
    gets all rows back in order.
    """
    extractor = feature_extractor(model, layer)
    return batched(
        model,
        images,
        lambda _, x: extractor(x),
        batch_size=batch_size,
        prepare=normalise,
        runtime=runtime,
        desc=f"features ({layer})",
    ).numpy()


def raw_pixels(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255.0
