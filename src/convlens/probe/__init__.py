"""k-NN probes of learned features (Problem 3c, 3d): features of every block, an exact fast
k-NN search, the block chosen on validation, a linear probe and paired bootstrap intervals.
Probing a trained de-shuffling network against its random twin is convlens.problem3.probe."""

from convlens.probe.features import extract_features, feature_extractor, features, raw_pixels
from convlens.probe.knn import compare, linear_probe_accuracy
from convlens.probe.probe_records import Probe

__all__ = [
    "Probe",
    "compare",
    "extract_features",
    "feature_extractor",
    "features",
    "linear_probe_accuracy",
    "raw_pixels",
]
