"""Every sentence of the report that states a result of the run, built from its records.

Each function takes one section's records and returns Markdown sentences whose wording follows
the verdicts of convlens.report.findings (ties, intervals): a claim the numbers do not support
is not made, or its opposite is. Every number it prints is a number of the records. Background
(methods, citations, what a table shows) lives in report/text/ and states no result. Where a new
claim goes: docs/architecture.md. Tests, in tests/report/discussion/: test_discussion.py (a test
per branch) and test_reversals.py (each claim against reversed and tied records, as data)."""

from convlens.report.discussion.explanations import completeness, maps_2ef
from convlens.report.discussion.problem1 import minimisers_1d
from convlens.report.discussion.problem2 import (
    accuracy_2b,
    class_models_2c,
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
    "completeness",
    "deshuffle_3b",
    "maps_2ef",
    "minimisers_1d",
    "mc_dropout_2h",
    "networks_3b",
    "probe_3c",
    "shapes_3d",
    "study_3d",
    "top5_2d",
]
