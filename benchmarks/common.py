"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

from convlens.runtime import cpu_kind  # noqa: F401 - re-exported for the scripts

PROBLEM2 = Path(
    os.environ.get("CONVLENS_PROBLEM2")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "problem2"
)


def best_of(fn: Callable[[], object], repeats: int = 3, warmup: int = 1) -> float:
    """The fastest of `repeats` timed calls, after `warmup` untimed ones (seconds)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def header(title: str) -> None:
    print(f"\n## {title}  (torch {torch.__version__}, {torch.get_num_threads()} threads)")


def print_networks(results) -> None:
    """Each de-shuffling network of a report's results alone (single view, on unseen
    photographs) against its bar, with its epochs, minutes and why it stopped."""
    from convlens.jigsaw.training.recipes import BARS

    for name, n in results.problem3.study.networks.items():
        bar = BARS.get(name, 0.6)
        print(
            f"{name:9s} alone {n.alone:.3f} (bar {bar:.2f}: "
            f"{'cleared' if n.alone >= bar else 'NOT cleared'}), {len(n.history)} epochs in "
            f"{n.training_minutes} min, stopped at {n.stopped}"
        )
