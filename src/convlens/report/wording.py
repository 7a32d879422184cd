"""What the report's sentences share: the one number format, and the one tolerance under which
two accuracies are called equal (a difference below it is not worded as a finding). The exam's
bar is convlens.jigsaw.training.recipes.EXAM_BAR."""

from __future__ import annotations

# Accuracies closer than this are "the same": below a tenth of an image in a thousand-image
# test set's resolution it says nothing, so no sentence ranks them.
TIE = 0.005


def three(x: float) -> str:
    """An accuracy or a probability as the report prints it (three decimals)."""
    return f"{x:.3f}"


def compare(a: float, b: float, tol: float = TIE) -> str:
    """ "higher than", "lower than" or "the same as", with `tol` the tie."""
    if a > b + tol:
        return "higher than"
    if a < b - tol:
        return "lower than"
    return "about the same as"
