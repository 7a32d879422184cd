"""The one rule for the scale of float pixels, for npz arrays and float TIFFs alike: 0-1 or
0-255, decided from the data with a tolerance for rounding (1.0000001 is still a 0-1 image:
read as 0-255 it would be black), and refused, naming the range found, where neither fits."""

from __future__ import annotations

from convlens.errors import ConvlensError

# How far past an end of its range a float image may stray by rounding, as a share of the range
SLACK = 0.01
# Between the two ranges: too bright for 0-1, far too dark to be a 0-255 photograph
_AMBIGUOUS_ABOVE = 1.0 + SLACK


def float_full_scale(lo: float, hi: float, where: str) -> float:
    """1.0 or 255.0: the value that means white for float pixels spanning lo..hi."""
    if lo >= -SLACK and hi <= _AMBIGUOUS_ABOVE:
        return 1.0
    if lo >= -255 * SLACK and hi <= 255 * (1 + SLACK) and hi > 2.0:
        return 255.0
    raise ConvlensError(
        f"{where}: float pixels span {lo:g}..{hi:g}; expected 0-1 or 0-255 (rescale them to "
        "one of the two)"
    )
