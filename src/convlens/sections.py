"""The contract between the report and what it runs per problem: the report's options
(`ReportContext`, typed: every section reads the same fields) and a `Section`, one typed object
per problem. `check(ctx) -> Loaded` reads and validates the section's inputs once, before any
section starts; `estimate(loaded, key) -> Plan` says what it will cost on this machine and fixes
what the computation needs from the measurement (Problem 3's training budget); `compute(loaded,
plan) -> record` does the work. The plan is handed from estimate to compute, never read back
from a file; `key` is the section's cache key (a folder named by it holds Problem 3's runs)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convlens.jigsaw.networks.catalogue import NETWORKS


@dataclass(frozen=True)
class ReportContext:
    """The report's options, as every section reads them."""

    out: Path
    seed: int = 0
    problem2: Path | None = None
    problem3: Path | None = None
    weights: str | None = None
    device: str = "auto"
    quick: bool = False  # tiny settings for tests
    networks: tuple[str, ...] = tuple(NETWORKS)  # Problem 3's networks, side by side
    minutes: float | None = None  # Problem 3's training budget, shared (None: measured need)
    # A user's own classifier for Problem 2 instead of VGG16 (--model MODULE:FUNCTION, its
    # --weights, --classes file and preprocessing: convlens.models.user_model.Preprocessing)
    model: str | None = None
    class_names: Path | None = None
    preprocessing: Any = None

    def step(self, text: str) -> None:
        """One line on stderr as each step starts, so a long report never runs in silence."""
        print(f"report: {text}", file=sys.stderr, flush=True)

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    @property
    def cache(self) -> Path:
        return self.out / "cache"


@dataclass(frozen=True)
class Plan:
    """What a section expects each of its parts to take here, in seconds (printed before the
    report starts and set beside the measured times in its appendix)."""

    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """One problem of the report: its name, the record it computes (which the cache reads
    back), the settings that key its cache, and the three steps of the contract; `render`
    writes its record into the document."""

    name: str
    record: type
    settings: Callable[[ReportContext], dict]
    check: Callable[[ReportContext], Any]
    estimate: Callable[[Any, str], Plan]
    compute: Callable[[Any, Plan], Any]
    render: Callable[..., None]
    # `fit(loaded, plan, seconds) -> plan`: the plan moved by `seconds` (negative: shorter),
    # where a section can trade minutes for accuracy (Problem 3's training), else None
    fit: Callable[[Any, Plan, float], Plan] | None = None
