"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

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


def cpu_kind() -> str:
    """What the CPU offers for bf16: native (AMX, AVX-512-BF16) or emulated (AVX2 only)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return "an unknown CPU"
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    native = [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    kind = f"native bf16 ({', '.join(native)})" if native else "AVX2, bf16 emulated"
    return f"{model or 'CPU'}, {os.cpu_count()} cores, {kind}"
