"""Monte Carlo dropout uncertainty and calibration for any classifier with dropout."""

from convlens.uncertainty.mc_dropout import MCResult, dropout_active, mc_dropout
from convlens.uncertainty.metrics import (
    calibration_metrics,
    entropy,
    expected_calibration_error,
    uncertainty_vs_errors,
)
from convlens.uncertainty.split import find_split

__all__ = [
    "MCResult",
    "calibration_metrics",
    "dropout_active",
    "entropy",
    "expected_calibration_error",
    "find_split",
    "mc_dropout",
    "uncertainty_vs_errors",
]
