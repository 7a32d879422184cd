"""A learning curve of the features: a cheap k-NN probe after every training epoch.

It reads only the probe's *training* images: a fixed, seeded subsample split into a part the
k-NN is fitted on and a part it is scored on. Each block's pooled output is standardised and
the best block's accuracy is recorded, so the curve shows whether training makes any layer
more useful for the labelled task, and how fast. The same numbers for the network with random
weights give the flat line the trained network has to rise above.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from convlens.probe.features import features
from convlens.probe.selection import knn_score, standardise, validation_split


class FeatureCurve:
    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        k: int = 3,
        size: int = 600,
        seed: int = 0,
        groups: np.ndarray | None = None,
    ):
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.permutation(len(labels))[: min(size, len(labels))])
        self.images, self.labels, self.k = images[rows], np.asarray(labels)[rows], k
        groups = None if groups is None else np.asarray(groups)[rows]
        self.fit, self.val = validation_split(self.labels, seed, groups)

    def __call__(self, model: nn.Module) -> dict:
        """{'probe_knn': best block's accuracy, 'probe_block': its name}."""
        feats = features(model, self.images)
        scores = {}
        for name, x in feats.items():
            xf, xv = standardise(x[self.fit], x[self.val])
            scores[name] = knn_score(xf, self.labels[self.fit], xv, self.labels[self.val], self.k)
        name = max(scores, key=scores.get)
        return {"probe_knn": scores[name], "probe_block": name}
