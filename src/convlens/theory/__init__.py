"""Problem 1: cross-entropy between a stochastic vector and a one-hot label.

The derivations in prose are in ``docs/theory.md``; every claim made there is computed or checked
here, and the tests compare each function against an independent oracle (a plain loop, torch's
``nll_loss``, scipy's optimisers).
"""

from convlens.theory.cross_entropy import (
    STOCHASTIC_ATOL,
    NonStochasticRow,
    check_one_hot,
    check_stochastic,
    cross_entropy,
    dataset_cross_entropy,
    dataset_cross_entropy_loop,
    non_stochastic_examples,
    raw_cross_entropy,
)
from convlens.theory.minimisers import (
    Minimiser,
    MinimiserRow,
    closed_form_minimiser,
    minimiser_table,
    numerical_minimiser,
    objective,
)
from convlens.theory.problem1 import (
    Agreement,
    CeExample,
    DatasetCe,
    TheoryChecks,
    TheoryResults,
    theory_results,
)

__all__ = [
    "STOCHASTIC_ATOL",
    "Agreement",
    "CeExample",
    "DatasetCe",
    "Minimiser",
    "MinimiserRow",
    "NonStochasticRow",
    "TheoryChecks",
    "TheoryResults",
    "check_one_hot",
    "check_stochastic",
    "closed_form_minimiser",
    "cross_entropy",
    "dataset_cross_entropy",
    "dataset_cross_entropy_loop",
    "minimiser_table",
    "non_stochastic_examples",
    "numerical_minimiser",
    "objective",
    "raw_cross_entropy",
    "theory_results",
]
