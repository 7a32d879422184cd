"""k-NN probes of learned features (Problem 3c, 3d)."""

from convlens.probe.features import extract_features, feature_extractor, raw_pixels
from convlens.probe.knn import compare, linear_probe_accuracy
from convlens.probe.results import Probe
from convlens.probe.workflow import probe_model, probe_run

__all__ = [
    "compare",
    "extract_features",
    "feature_extractor",
    "linear_probe_accuracy",
    "Probe",
    "probe_model",
    "probe_run",
    "raw_pixels",
]
