"""De-shuffling's records (convlens.record): a training epoch and an evaluation of every method."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlens.record import key


@dataclass(frozen=True)
class Epoch:
    """One epoch of training; `probe_knn`/`probe_block` when a feature curve was recorded."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_accuracy: float
    seconds: float
    probe_knn: float | None = key(omit_if_none=True, default=None)
    probe_block: str | None = key(omit_if_none=True, default=None)


def epochs(history: list[dict]) -> list[Epoch]:
    """A training run's history (history.json's rows) as records."""
    return [Epoch(**h) for h in history]


@dataclass(frozen=True)
class TrainResult:
    """How a training run ended: its epochs, the best validation image-level accuracy, the
    epochs planned (fewer than the settings' when a time budget cut them) and why it stopped
    ("epochs", "budget" or "perfect")."""

    run: str
    history: list[Epoch]
    best_val_accuracy: float
    planned_epochs: int
    stopped: str
    n_fit: int  # labelled images trained on
    n_validation: int  # labelled images held out to validate on

    @property
    def minutes(self) -> float:
        """The run's training minutes as records keep them (two decimals)."""
        return round(training_minutes(self.history), 2)


def minutes(history: list[Epoch]) -> np.ndarray:
    """Minutes of training at the end of each epoch: the one place they are added up."""
    return np.cumsum([h.seconds for h in history]) / 60


def training_minutes(history: list[Epoch]) -> float:
    """Minutes all the history's epochs took."""
    return float(minutes(history)[-1]) if history else 0.0


@dataclass(frozen=True)
class MethodAccuracy:
    """Image-level (the whole order right) and quarter-level (tiles in the right place)."""

    n: int
    image_correct: int
    image_accuracy: float
    quarter_correct: int
    quarter_accuracy: float


@dataclass(frozen=True)
class Examples:
    """A few test puzzles as the network ordered them, for the examples figure: up to half of
    them ordered right, the rest wrong (`rows`: which test images they are)."""

    rows: list[int]
    shuffled: np.ndarray  # k x 3 x H x W, as given
    true_orders: np.ndarray  # k x 4
    predicted_orders: np.ndarray  # k x 4, the network's most probable order

    @property
    def right(self) -> np.ndarray:
        return (self.predicted_orders == self.true_orders).all(1)


@dataclass(frozen=True)
class Evaluation:
    """Every de-shuffling method on the labelled test images, and a few examples of the
    network's orders (not stored) for the examples figure."""

    run: str
    best_epoch: int  # the epoch whose weights are evaluated (best on validation)
    n_test: int
    seam_temperature: float
    seam_weight: float
    combination_fitted_on: str
    methods: dict[str, MethodAccuracy]
    highest_on_test: str  # a description of the table, not a model selection
    tta: str
    figure: str | None = key(omit_if_none=True, default=None)
    # the network's wrong orders by how many tiles they misplace ("2", "3", "4")
    misplaced: dict[str, int] | None = key(omit_if_none=True, default=None)
    confusion_network: list[list[int]] | None = key(stored=False, default=None)
    examples: Examples | None = key(stored=False, default=None)

    @property
    def network(self) -> MethodAccuracy:
        """The network alone (single view)."""
        return self.methods["network"]

    def method(self, name: str) -> MethodAccuracy:
        """`name`'s accuracy. Where test-time augmentation was not computed because it equals
        the network (EdgeNet's scores do not depend on the input's order, tested), a "+tta"
        method reads as the same method without it."""
        if name not in self.methods and "+tta" in name:
            return self.methods[name.replace("+tta", "")]
        return self.methods[name]
