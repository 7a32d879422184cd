"""`convlens jigsaw train`'s settings: each flag overrides the chosen network's recipe
(convlens.jigsaw.training.recipes) where given, and names a TrainConfig field or a setting of the
chosen network (convlens.jigsaw.networks.configs: a flag of another network is refused)."""

from __future__ import annotations

import argparse

from convlens.cli.options import nonnegative_float, nonnegative_int, positive_float, positive_int
from convlens.jigsaw.networks.configs import ARCHS, HEADS
from convlens.jigsaw.training.config import VAL_SPLITS

MODEL_FLAGS = (
    "width",
    "dropout",
    "hidden",
    "resolution",
    "gap",
    "tile_norm",
    "tile_gray",
    "head",
)
TRAIN_FLAGS = (
    "epochs",
    "batch_size",
    "lr",
    "val_fraction",
    "val_split",
    "shuffles",
    "crop_scale",
    "mix",
    "ema_epochs",
    "minutes",
    "patience",
    *MODEL_FLAGS,
)


# (flags, argparse settings) of every option. Defaults come from the chosen architecture's
# recipe (convlens.jigsaw.training.recipes); any flag given overrides it.
OPTIONS = (
    (
        ("--epochs",),
        {
            "type": positive_int,
            "default": None,
            "help": "default: the recipe's",
        },
    ),
    (
        ("--batch-size",),
        {
            "type": positive_int,
            "default": None,
        },
    ),
    (
        ("--lr",),
        {
            "type": positive_float,
            "default": None,
        },
    ),
    (
        ("--arch",),
        {
            "choices": ARCHS,
            "default": "edgenet",
            "help": "edgenet (seam-scoring trunk, default), vgg11_bn over the whole image (the "
            "exam's "
            "suggestion), cfn (context-free: each quarter alone through a shared VGG-11-BN trunk), "
            "or another VGG-BN",
        },
    ),
    (
        ("--width",),
        {
            "type": positive_float,
            "default": None,
            "help": "channel multiplier",
        },
    ),
    (
        ("--dropout",),
        {
            "type": float,
            "default": None,
            "help": "in [0, 1)",
        },
    ),
    (
        ("--hidden",),
        {
            "type": positive_int,
            "default": None,
        },
    ),
    (
        ("--resolution",),
        {
            "type": nonnegative_int,
            "default": None,
            "help": "vgg: side the image is first resized to (recipe: 64; 0 keeps the input size)",
        },
    ),
    (
        ("--gap",),
        {
            "type": nonnegative_int,
            "default": None,
            "help": "cfn: pixels cropped off each tile edge (default 4)",
        },
    ),
    (
        ("--tile-norm",),
        {
            "action": argparse.BooleanOptionalAction,
            "default": None,
            "help": "cfn: standardise each tile on its own (off in the cfn recipe)",
        },
    ),
    (
        ("--tile-gray",),
        {
            "type": float,
            "default": None,
            "help": "cfn: probability that a training tile is turned grey (0 in the cfn recipe)",
        },
    ),
    (
        ("--shuffles",),
        {
            "type": positive_int,
            "default": None,
            "help": "copies of each image per epoch, each in another order (default 1)",
        },
    ),
    (
        ("--crop-scale",),
        {
            "type": float,
            "default": None,
            "help": "each epoch, each image is first cropped to a random square of at least this "
            "fraction of its side and resized back, in [0.25, 1] (1: no crop)",
        },
    ),
    (
        ("--mix",),
        {
            "type": float,
            "default": None,
            "help": "fraction of training images blended with another image before shuffling, in "
            "[0, 1] (the label stays exact)",
        },
    ),
    (
        ("--ema-epochs",),
        {
            "type": nonnegative_float,
            "default": None,
            "help": "validate and keep a moving average of the weights over about this many epochs "
            "(0: the last step's weights)",
        },
    ),
    (
        ("--minutes",),
        {
            "type": nonnegative_float,
            "default": None,
            "help": "time budget: after the first epoch, plan as many epochs (at most --epochs) as "
            "fit in this many minutes at its speed (recipe: 0, all epochs)",
        },
    ),
    (
        ("--patience",),
        {
            "type": nonnegative_int,
            "default": None,
            "help": "stop after this many epochs in a row at perfect validation accuracy (default "
            "3; "
            "0 never stops early)",
        },
    ),
    (
        ("--head",),
        {
            "choices": HEADS,
            "default": None,
            "help": "vgg: seams (pairs of the final 2x2 grid's cells, recipe) or orders (one "
            "24-way "
            "fully connected head); cfn: also borders (each seam from the tiles' facing sides)",
        },
    ),
    (
        ("--workers",),
        {
            "type": nonnegative_int,
            "default": 0,
            "help": "processes preparing training batches (useful with a GPU; default 0)",
        },
    ),
    (
        ("--val-fraction",),
        {
            "type": float,
            "default": None,
            "help": "in (0, 1); picks best.pt (0.1)",
        },
    ),
    (
        ("--val-split",),
        {
            "choices": VAL_SPLITS,
            "default": None,
            "help": "without known photographs: hold out random images, or whole groups of "
            "look-alike images (the recipe's choice by default)",
        },
    ),
)


def add_training_options(parser) -> None:
    for flags, settings in OPTIONS:
        parser.add_argument(*flags, **settings)
