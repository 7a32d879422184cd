"""The probe's records (convlens.record): what `convlens probe` prints and results.json holds."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from convlens.errors import ConvlensError
from convlens.record import from_json, key


@dataclass(frozen=True)
class ProbeRow:
    """One feature set on the test images: k-NN with the exam's k (stored as ``knn3`` for
    k = 3), cosine k-NN, a linear probe, and k-NN's accuracy per class."""

    features: str
    dim: int
    k: int
    knn: float
    correct: int
    n: int
    cosine_knn: float
    linear: float
    linear_input: str
    per_class: dict[str, float]

    def to_json(self) -> dict:
        return {
            "features": self.features,
            "dim": self.dim,
            f"knn{self.k}": self.knn,
            "correct": self.correct,
            "n": self.n,
            f"cosine_knn{self.k}": self.cosine_knn,
            "linear": self.linear,
            "linear_input": self.linear_input,
            "per_class": dict(self.per_class),
        }

    @classmethod
    def from_json(cls, data: dict) -> ProbeRow:
        found = [m for name in data if (m := re.fullmatch(r"knn(\d+)", name))]
        if len(found) != 1:
            raise ConvlensError(f"probe row: expected one 'knn<k>' key, got {sorted(data)}")
        k = int(found[0].group(1))
        if f"cosine_knn{k}" not in data:
            raise ConvlensError(f"probe row: missing 'cosine_knn{k}' beside 'knn{k}'")
        rest = {n: v for n, v in data.items() if n not in (f"knn{k}", f"cosine_knn{k}")}
        plain = from_json(_PlainRow, rest, "probe row")
        return cls(
            k=k,
            knn=from_json(float, data[f"knn{k}"], f"probe row.knn{k}"),
            cosine_knn=from_json(float, data[f"cosine_knn{k}"], f"probe row.cosine_knn{k}"),
            **vars(plain),
        )


@dataclass(frozen=True)
class _PlainRow:  # ProbeRow's keys that do not depend on k, read strictly
    features: str
    dim: int
    correct: int
    n: int
    linear: float
    linear_input: str
    per_class: dict[str, float]


@dataclass(frozen=True)
class Choice:
    """The block and standardisation chosen on the validation split, and its score there."""

    block: str
    standardised: bool
    val_knn: float


@dataclass(frozen=True)
class Candidate:
    """One block x standardisation of one network; `test_knn` is shown, never used to choose."""

    network: str
    block: str
    dim: int
    standardised: bool
    val_knn: float
    test_knn: float
    chosen: bool


@dataclass(frozen=True)
class Difference:
    """Trained minus random twin on the same test images, with its paired bootstrap interval;
    real when the interval excludes zero."""

    difference: float
    low: float
    high: float
    real: bool
    twin_accuracy: float | None = key(omit_if_none=True, default=None)
    twin_choice: Choice | None = key(omit_if_none=True, default=None)  # a second twin's own


TRAINED, RANDOM, RAW = "de-shuffling network", "random network", "raw pixels"
SECOND_TWIN = "random network, second seed"


def beyond_noise(differences: dict[str, Difference]) -> int:
    """+1 when the trained network beats every random twin outside the interval, -1 when it is
    worse than every one, 0 otherwise (within the noise, or real against one twin only)."""
    if not differences or not all(d.real for d in differences.values()):
        return 0
    signs = {d.difference > 0 for d in differences.values()}
    return 0 if len(signs) > 1 else (1 if signs == {True} else -1)


@dataclass(frozen=True)
class Probe:
    """k-NN and the other probes on every feature set; with the block search (`layer` auto),
    the choices, every candidate and the trained-minus-random differences. The chosen test
    features and labels travel along (not stored) for the embedding figure."""

    k: int
    table: list[ProbeRow]
    sweep: dict[str, dict[str, float]]
    layer: str
    n_train: int
    n_test: int
    choices: dict[str, Choice] | None = key(omit_if_none=True, default=None)
    layers: list[Candidate] | None = key(omit_if_none=True, default=None)
    differences: dict[str, Difference] | None = key(omit_if_none=True, default=None)
    figure: str | None = key(omit_if_none=True, default=None)
    test_features: dict[str, np.ndarray] | None = key(stored=False, default=None)
    test_labels: np.ndarray | None = key(stored=False, default=None)

    def row(self, features: str) -> ProbeRow:
        return next(r for r in self.table if r.features == features)

    @property
    def trained(self) -> ProbeRow:
        return self.row(TRAINED)

    @property
    def random(self) -> ProbeRow:
        return self.row(RANDOM)

    @property
    def raw(self) -> ProbeRow | None:
        return next((r for r in self.table if r.features == RAW), None)
