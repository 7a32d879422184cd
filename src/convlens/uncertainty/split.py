"""Find where a classifier's randomness starts, so the deterministic prefix runs only once.

VGG16's dropout lives in its classifier head: the convolutions (over 99 % of the FLOPs) give
the same output in every Monte Carlo sample. Splitting the forward pass at the first module
that contains dropout lets us compute the prefix once and sample only the suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

DROPOUT_TYPES = (
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.FeatureAlphaDropout,
)


def dropout_modules(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, DROPOUT_TYPES)]


def _has_dropout(m: nn.Module) -> bool:
    return bool(dropout_modules(m))


@dataclass
class PrefixSplit:
    prefix: Callable[[torch.Tensor], torch.Tensor]
    suffix: Callable[[torch.Tensor], torch.Tensor]
    where: str


def _flatten_sequential(seq: nn.Sequential) -> list[tuple[str, nn.Module]]:
    out = []
    for name, m in seq.named_children():
        if isinstance(m, nn.Sequential):
            out += [(f"{name}.{n}", c) for n, c in _flatten_sequential(m)]
        else:
            out.append((name, m))
    return out


def _split_sequence(layers: list[tuple[str, nn.Module]], before=None) -> PrefixSplit | None:
    first = next((i for i, (_, m) in enumerate(layers) if _has_dropout(m)), None)
    if first is None:
        return None
    head = nn.Sequential(*[m for _, m in layers[:first]])
    tail = nn.Sequential(*[m for _, m in layers[first:]])

    def prefix(x):
        return head(before(x) if before else x)

    return PrefixSplit(prefix, tail, layers[first][0])


def find_split(model: nn.Module) -> PrefixSplit | None:
    """A prefix/suffix split for nn.Sequential models and the VGG layout, else None.

    VGG layout: `features`, `avgpool` and an nn.Sequential `classifier`, no dropout before the
    classifier, and forward = classifier(flatten(avgpool(features(x)))) (ours and
    torchvision's). The caller verifies the split against a full forward pass.
    """
    if isinstance(model, nn.Sequential):
        return _split_sequence(_flatten_sequential(model))
    parts = [getattr(model, n, None) for n in ("features", "avgpool", "classifier")]
    if all(isinstance(p, nn.Module) for p in parts) and isinstance(parts[2], nn.Sequential):
        features, avgpool, classifier = parts
        if _has_dropout(features) or _has_dropout(avgpool):
            return None

        def trunk(x):
            return torch.flatten(avgpool(features(x)), 1)

        # A dropout module the model calls outside these three parts (in its own forward)
        # would never be re-sampled by the suffix: only full passes are right then.
        inside = {id(m) for p in parts for m in dropout_modules(p)}
        if any(id(m) not in inside for m in dropout_modules(model)):
            return None
        split = _split_sequence(_flatten_sequential(classifier), before=trunk)
        if split is not None:
            split.where = f"classifier.{split.where}"
        return split
    return None
