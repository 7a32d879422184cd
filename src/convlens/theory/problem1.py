"""Everything Problem 1 answers, as one record: results.json's "problem1" section and
`convlens theory --json`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlens.theory.cross_entropy import (
    NonStochasticRow,
    cross_entropy,
    dataset_cross_entropy,
    dataset_cross_entropy_loop,
    non_stochastic_examples,
)
from convlens.theory.minimisers import MinimiserRow, minimiser_table


@dataclass(frozen=True)
class CeExample:
    z: list[float]
    y: list[int]
    ce: float


@dataclass(frozen=True)
class DatasetCe:
    n: int
    vectorised: float
    loop: float
    operations: int


@dataclass(frozen=True)
class Agreement:
    abs_diff: float
    agree: bool


@dataclass(frozen=True)
class TheoryChecks:
    none: Agreement
    l2: Agreement
    l1: Agreement
    dataset_ce_2n_operations: bool

    @property
    def all_agree(self) -> bool:
        return all(c.agree for c in (self.none, self.l2, self.l1)) and self.dataset_ce_2n_operations


@dataclass(frozen=True)
class TheoryResults:
    """Problem 1's numbers: results.json's "problem1" section and `convlens theory --json`."""

    weight: float
    ce_example: CeExample
    non_stochastic: list[NonStochasticRow]
    dataset_ce: DatasetCe
    argmin_none: list[float]
    argmin_l2: list[float]
    argmin_l1: list[float]
    minimisers: list[MinimiserRow]
    checks: TheoryChecks


def theory_results(weight: float = 1.0, tol: float = 1e-6) -> TheoryResults:
    """Everything `convlens theory` prints."""
    table = minimiser_table(weight)
    by = {row.penalty: row for row in table}
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=8)
    labels = rng.integers(0, 5, size=8)
    fast = dataset_cross_entropy(probs, labels)
    loop, ops = dataset_cross_entropy_loop(probs, labels)

    def agreement(penalty: str) -> Agreement:
        return Agreement(by[penalty].abs_diff, by[penalty].abs_diff <= tol)

    return TheoryResults(
        weight=weight,
        ce_example=CeExample([0.7, 0.3], [1, 0], cross_entropy([0.7, 0.3], [1, 0])),
        non_stochastic=non_stochastic_examples(),
        dataset_ce=DatasetCe(n=8, vectorised=fast, loop=loop, operations=ops),
        argmin_none=by["none"].z,
        argmin_l2=by["l2"].z,
        argmin_l1=by["l1"].z,
        minimisers=table,
        checks=TheoryChecks(
            none=agreement("none"),
            l2=agreement("l2"),
            l1=agreement("l1"),
            dataset_ce_2n_operations=ops == 2 * 8 and abs(fast - loop) < 1e-12,
        ),
    )
