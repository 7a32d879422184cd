"""Explanations for any image classifier that returns unnormalised class scores.

Every function takes a model, a B x C x H x W batch and a target class per image (or one for
all), returns a batch, and leaves the model's modes, flags and gradients as it found them.
"""

from convlens.explain.class_model import ClassVizConfig, ClassVizResult, class_model_visualisation
from convlens.explain.gradient_pair import GradientPair, saliency_and_guided
from convlens.explain.guided_backprop import guided_backprop, guided_relus
from convlens.explain.saliency import saliency

__all__ = [
    "ClassVizConfig",
    "ClassVizResult",
    "GradientPair",
    "class_model_visualisation",
    "guided_backprop",
    "guided_relus",
    "saliency",
    "saliency_and_guided",
]
