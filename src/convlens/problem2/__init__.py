"""Problem 2, one file per exam step. Each step is one function over a model, a batch of
images, class names and a display function; it returns rows (plain dicts, also stored in
results.json) and the names of the figures it wrote. `convlens <command>` and the report are
both a few lines over these functions, so they cannot disagree.

    2b  accuracy.py       top-1/top-5 accuracy on the labelled validation images
    2c  class_models.py   class model visualisations, without and with blur every k steps
    2d  top5.py           the five most probable classes of each test image
    2e  maps.py           saliency maps and (2f) guided backpropagation, one figure
    2h  mc_dropout.py     Monte Carlo dropout per test image, violin figures
        setup.py          what differs between VGG16 on ImageNet and the digits demo
        answers.py        the records each step returns, and results.json's "problem2"
"""

from convlens.problem2.accuracy import validation_accuracy
from convlens.problem2.class_models import class_models
from convlens.problem2.maps import saliency_and_guided_backprop
from convlens.problem2.mc_dropout import mc_dropout_rows
from convlens.problem2.setup import Problem2Setup
from convlens.problem2.top5 import top5

__all__ = [
    "Problem2Setup",
    "class_models",
    "mc_dropout_rows",
    "saliency_and_guided_backprop",
    "top5",
    "validation_accuracy",
]
