"""Problem 3: 2x2 jigsaw puzzles -- permutations, data, a network that predicts them, and
restoration."""

from convlens.jigsaw.puzzle.data import NpzData, load_npz
from convlens.jigsaw.puzzle.permutations import (
    NUM_PERMUTATIONS,
    PERMUTATIONS,
    classes_to_orders,
    orders_to_classes,
)
from convlens.jigsaw.puzzle.tiles import deshuffle, shuffle

__all__ = [
    "NUM_PERMUTATIONS",
    "PERMUTATIONS",
    "NpzData",
    "classes_to_orders",
    "deshuffle",
    "load_npz",
    "orders_to_classes",
    "shuffle",
]
