"""The demo's report (`convlens report --problem2 ...`, no Problem 3 data, no --minutes) as a
slower CPU would fit it: the demo's minutes (`report/build.DEMO_MINUTES`) are divided by
`--ratio`, so the plan moves the epochs the way the plan of a CPU that many times slower would.
Run it held to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2) with the ratio measured
between that and a real AVX2-only laptop on the same work (docs/benchmarks.md: x1.65 on a Zen 4
EPYC) to see what the laptop's demo would train and how long it would take. Prints the wall
time and the same times the ratio, the plan beside it, and each network alone (single view, on
unseen photographs) against its bar.

    python bench_demo_laptop.py --ratio 1.65 [--out DIR]
"""

import argparse
import tempfile
import time
from pathlib import Path

from common import PROBLEM2, cpu_kind, header, print_networks

from convlens.report import build
from convlens.report.build import ReportContext, build_report


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--ratio", type=float, default=1.0, help="how many times slower a CPU")
    p.add_argument("--out", type=Path, default=None, help="write the report here")
    args = p.parse_args()
    header(f"the demo fitted as a CPU {args.ratio:g}x slower than {cpu_kind()} would fit it")
    build.DEMO_MINUTES = build.DEMO_MINUTES / args.ratio
    with tempfile.TemporaryDirectory() as tmp:
        ctx = ReportContext(out=args.out or Path(tmp) / "report", problem2=PROBLEM2)
        start = time.perf_counter()
        results = build_report(ctx).results
        minutes = (time.perf_counter() - start) / 60
    planned = sum((results.estimated_seconds or {}).values()) / 60
    print(
        f"report: {minutes:.1f} min here, so about {minutes * args.ratio:.1f} min on the slower "
        f"CPU; planned {planned:.1f} min here (measured / planned x{minutes / planned:.2f})"
    )
    print_networks(results)


if __name__ == "__main__":
    main()
