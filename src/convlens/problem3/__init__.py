"""Problem 3, one file per exam step, like Problem 2. Each step is one function over the
exam's data and a model; it returns a record (convlens.problem3.study_records) and draws nothing
(convlens.figures.problem3 draws). `convlens jigsaw ...`, `convlens probe` and the report are a
few lines over these functions.

    3a-3b  deshuffle.py  train a de-shuffling network; evaluate every method; restore images
    3c     probe.py      k-NN on its features against its random twin and raw pixels
    3a-3d  study.py      several networks side by side on the same data, each model read once
           study_records.py  the records, and results.json's "problem3" section
"""

from convlens.problem3.deshuffle import evaluate_model, evaluate_run, run_training
from convlens.problem3.probe import probe_model, probe_run
from convlens.problem3.study import run_study

__all__ = [
    "evaluate_model",
    "evaluate_run",
    "probe_model",
    "probe_run",
    "run_study",
    "run_training",
]
