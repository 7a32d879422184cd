"""The report's discussion of the numbers in front of the reader, built from results.json.

Each function takes one section's results and returns Markdown sentences whose wording follows
the outcome ("better than" or "worse than"); every number it prints is a number of the results
(a test checks both). Fixed background text lives in report/text/; this is the part that
changes when the results change. Problem 2's sentences: .problem2; Problem 3's: .problem3."""

from convlens.report.discussion.problem2 import (
    accuracy_2b,
    class_models_2c,
    maps_2ef,
    mc_dropout_2h,
    top5_2d,
)
from convlens.report.discussion.problem3 import (
    deshuffle_3b,
    networks_3b,
    probe_3c,
    shapes_3d,
    study_3d,
)

__all__ = [
    "accuracy_2b",
    "class_models_2c",
    "deshuffle_3b",
    "maps_2ef",
    "mc_dropout_2h",
    "networks_3b",
    "probe_3c",
    "shapes_3d",
    "study_3d",
    "top5_2d",
]
