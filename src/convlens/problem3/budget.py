"""Problem 3's training time: one budget for every network, estimated before training starts
and shared by need.

A network's need is the epochs its recipe needs to clear its bar (`NEEDED_EPOCHS`, measured
with benchmarks/bench_jigsaw.py on held-out photographs) at the seconds per epoch measured on
this machine (convlens.jigsaw.training.speed). The budget is the sum of the needs, unless the
user gives one (`--minutes`). Networks train one after another; each is given the minutes
still unspent
times its part of the needs still to come, so a network that stops early (perfect validation)
hands what it did not use to those after it, and each network's time planner
(TrainConfig.minutes) fits as many epochs as its share allows, up to its recipe's most.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convlens import record
from convlens.jigsaw.networks.catalogue import NETWORKS
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.speed import epoch_seconds
from convlens.runtime import Runtime

# Epochs each recipe needs to clear its bar on unseen photographs in fp32 (docs/experiments.md:
# the curves of test accuracy against epochs and minutes that chose them), from each network's
# entry in convlens.jigsaw.networks.catalogue.
NEEDED_EPOCHS = {name: spec.needed_epochs for name, spec in NETWORKS.items()}


@dataclass(frozen=True)
class Need:
    """One network's part of the budget, as planned before training."""

    epochs: int
    seconds_per_epoch: float
    inference_seconds_per_image: float

    @property
    def minutes(self) -> float:
        return self.epochs * self.seconds_per_epoch / 60


@dataclass(frozen=True)
class TrainingBudget:
    needs: dict[str, Need]
    total_minutes: float
    given: bool  # the user's --minutes (else the sum of the needs)
    # moved so that the demo keeps to its minutes (convlens.problem3.plan.fit), never under
    # `least` epochs for a network it names
    fitted: bool = False
    least: dict[str, int] = field(default_factory=dict)

    def floor(self, name: str) -> int:
        """Epochs `name`'s planner never plans under, even where its first epoch ran slower
        than measured: fitted, the demo's floor; at need, its need (else EdgeNet fitted 3 of
        its 4 and VGG-11-BN 15 of its 16 in one exam report held to AVX2, the report running
        a few seconds past its estimate instead); within the user's --minutes, none."""
        if self.fitted:
            return self.least.get(name, 0)
        return 0 if self.given else self.needs[name].epochs

    def planned_minutes(self, name: str) -> float:
        """`name`'s share if every network before it uses exactly its own."""
        total_need = sum(n.minutes for n in self.needs.values())
        return self.total_minutes * self.needs[name].minutes / total_need if total_need else 0.0

    def share(self, name: str, spent_minutes: float) -> float:
        """Minutes for `name`, trained after the networks before it in `needs` spent
        `spent_minutes`: what is left, in proportion to the needs still to come."""
        names = list(self.needs)
        to_come = sum(self.needs[n].minutes for n in names[names.index(name) :])
        left = max(self.total_minutes - spent_minutes, 0.0)
        part = self.needs[name].minutes / to_come if to_come > 0 else 1.0
        # a share under a tenth of a minute would still train one epoch; say so honestly
        return max(round(left * part, 2), 0.1)


def plan_budget(
    originals: np.ndarray,
    n_images: int,
    configs: dict[str, TrainConfig],
    minutes: float | None = None,
    needed: dict[str, int] | None = None,
    runtime: Runtime = Runtime(),
) -> TrainingBudget:
    """Measure each network's epoch on this machine (on `originals`, restored uint8 images of
    the training set, `n_images` of them training) and plan the budget: `minutes` in all, or
    the sum of the needs (`needed` epochs per architecture, by default NEEDED_EPOCHS), on
    `runtime`'s device."""
    needed = NEEDED_EPOCHS if needed is None else needed
    needs = {}
    for name, cfg in configs.items():
        epoch, inference = epoch_seconds(originals, n_images, cfg, runtime=runtime)
        needs[name] = Need(
            epochs=min(needed.get(cfg.model.arch, cfg.epochs), cfg.epochs),
            seconds_per_epoch=round(epoch, 2),
            inference_seconds_per_image=round(inference, 6),
        )
    total = minutes if minutes else sum(n.minutes for n in needs.values())
    return TrainingBudget(needs=needs, total_minutes=round(total, 2), given=bool(minutes))


def budget_dict(budget: TrainingBudget) -> dict:
    return record.to_json(budget)


def read_budget(path: Path) -> TrainingBudget:
    return record.from_json(TrainingBudget, json.loads(Path(path).read_text()), str(path))
