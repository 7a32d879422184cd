"""convlens: look inside convolutional networks.

Problem 1 (cross-entropy theory) lives in :mod:`convlens.theory`, the VGG family in
:mod:`convlens.models`, explanations in :mod:`convlens.explain`, Monte Carlo dropout in
:mod:`convlens.uncertainty`, the 2x2 jigsaw task in :mod:`convlens.jigsaw`, and k-NN probes in
:mod:`convlens.probe`.
"""

__version__ = "0.1.0"
