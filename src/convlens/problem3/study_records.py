"""Problem 3's records (convlens.record): each network's training, evaluation and probe, the
study that puts them side by side, and results.json's "problem3" section."""

from __future__ import annotations

from dataclasses import dataclass

from convlens.jigsaw.run_records import Epoch, Evaluation
from convlens.probe.probe_records import Probe
from convlens.problem3.budget import TrainingBudget
from convlens.record import key


@dataclass(frozen=True)
class NetworkResult:
    """One de-shuffling network of the study: how it trained, how well it de-shuffles, and
    what a k-NN probe reads from its features."""

    arch: str
    settings: str
    history: list[Epoch]
    training_minutes: float
    budget_minutes: float | None
    planned_epochs: int
    max_epochs: int
    stopped: str  # "budget", "epochs" or "perfect" (validation perfect for `patience` epochs)
    precision: str
    cpu: str
    evaluation: Evaluation
    probe: Probe
    random_curve: float  # the feature curve's accuracy with random weights
    seconds: dict[str, float]
    # the minutes the shared budget planned for this network before training (its need)
    needed_minutes: float | None = key(omit_if_none=True, default=None)
    # labelled training images trained on and held out for validation
    n_fit: int | None = key(omit_if_none=True, default=None)
    n_validation: int | None = key(omit_if_none=True, default=None)
    # the accelerator it trained on (None: the CPU that `cpu` names)
    device: str | None = key(omit_if_none=True, default=None)

    @property
    def machine(self) -> str:
        """Where it trained, in words: the accelerator, else the CPU."""
        return self.device or self.cpu

    @property
    def alone(self) -> float:
        """Image-level test accuracy of the network alone (single view)."""
        return self.evaluation.network.image_accuracy


@dataclass(frozen=True)
class Study:
    networks: dict[str, NetworkResult]
    curve_images: int
    curve_figure: str | None = key(omit_if_none=True, default=None)
    learning_figure: str | None = key(omit_if_none=True, default=None)

    @property
    def first(self) -> NetworkResult:
        return next(iter(self.networks.values()))


@dataclass(frozen=True)
class Problem3Results:
    """results.json's "problem3": the study, with its first network's training, evaluation and
    probe also at the top (the section's layout before the study held several networks)."""

    mode: str  # "exam" (problem3.zip) or "demo" (puzzles cut from bundled photographs)
    shuffled_source: str
    normal_source: str
    n_train: int
    epochs: int
    arch: str
    history: list[Epoch]
    training_minutes: float
    evaluation: Evaluation
    probe: Probe
    study: Study
    seconds: dict[str, float]
    # the demo's second study: puzzles and probe whose classes are shapes (handwritten digits)
    shapes: Study | None = key(omit_if_none=True, default=None)
    # the training minutes planned before training (None: the quick report's one epoch each)
    budget: TrainingBudget | None = key(omit_if_none=True, default=None)

    @property
    def demo(self) -> bool:
        return self.mode == "demo"
