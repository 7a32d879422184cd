"""What a sentence about this run may say: the report's one reading of ties and intervals.

Every result sentence of the report (convlens.report.discussion, .summary, the section notes)
decides its wording here: two numbers closer than `TIE` are "the same" and no sentence ranks
them; where an interval was measured, the interval decides instead of the tie. A finding
function returns a verdict (+1, 0, -1), never a sentence, so the sentence that reads it can
say nothing, or the opposite, when the numbers do not support the claim."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

from convlens.probe.probe_records import RANDOM, Probe, beyond_noise

# Accuracies and probabilities closer than this are "the same": below half an image in a
# hundred-image test set it says nothing, so no sentence ranks them.
TIE = 0.005


def three(x: float) -> str:
    """An accuracy or a probability as the report prints it (three decimals)."""
    return f"{x:.3f}"


def tenth(x: float) -> str:
    """A size or a duration as the report prints it (one decimal: "1.3 min", "138.4 M")."""
    return f"{x:.1f}"


def percent(x: float, decimals: int = 0) -> str:
    """A fraction as the report prints a percentage ("95 %")."""
    return f"{x * 100:.{decimals}f} %"


def direction(a: float, b: float, tol: float = TIE) -> int:
    """+1 when `a` is above `b` by more than `tol`, -1 when below, 0 when they tie."""
    if a > b + tol:
        return 1
    if a < b - tol:
        return -1
    return 0


def compare(a: float, b: float, tol: float = TIE) -> str:
    """ "higher than", "lower than" or "about the same as", with `tol` the tie."""
    return {1: "higher than", -1: "lower than", 0: "about the same as"}[direction(a, b, tol)]


def tied_groups(values: dict[str, float], tol: float = TIE) -> list[list[str]]:
    """The names from highest to lowest, grouped where each is within `tol` of its group's
    first (highest) member."""
    groups: list[list[str]] = []
    for name in sorted(values, key=lambda n: -values[n]):
        if groups and values[groups[-1][0]] - values[name] <= tol:
            groups[-1].append(name)
        else:
            groups.append([name])
    return groups


def ranking(values: dict[str, float], tol: float = TIE, fmt: Callable = three) -> str:
    """ "a (0.900) > b (0.503) ~ c (0.500)": `>` only between values more than `tol` apart,
    `~` between tied ones."""
    return " > ".join(
        " ~ ".join(f"{n} ({fmt(values[n])})" for n in group) for group in tied_groups(values, tol)
    )


def leaders(values: dict[str, float], tol: float = TIE) -> list[str]:
    """Every name tied for the highest value."""
    return tied_groups(values, tol)[0] if values else []


def and_list(names: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Gain:
    """A de-shuffling network's k-NN against its random twin(s), decided once: every sentence
    about the network's features reads this verdict.

    `verdict` is +1 (better than every twin outside its interval), -1 (worse than every twin
    outside its interval) or 0. Without intervals (`tested` False) it is the tie's reading of
    the first twin only, which the sentences say is not a test against noise."""

    difference: float
    verdict: int
    tested: bool


def gain(probe: Probe) -> Gain:
    """The one verdict on a network's features (both twins' intervals where measured)."""
    differences = probe.differences or {}
    if RANDOM in differences:
        return Gain(differences[RANDOM].difference, beyond_noise(differences), True)
    difference = probe.trained.knn - probe.random.knn
    return Gain(difference, direction(difference, 0.0), False)


def binomial_interval(correct: int, n: int, level: float) -> tuple[float, float]:
    """Wilson's score interval for an accuracy of `correct` out of `n` images: how far another
    draw of `n` images from the same source could move it."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
