"""Problem 3 as a study: the de-shuffling networks side by side, from training to the probe."""

from convlens.problem3.study import run_study

__all__ = ["run_study"]
