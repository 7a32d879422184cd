"""Are two reports' numbers the same? Every number and text of two results.json files is
compared, except what differs from run to run by nature (seconds, minutes, the CPU, paths,
figure names). A change that should not alter behaviour (a redesign) must print "0 differences"
for reports of the same data and seed made before and after it, e.g. the quick reports, whose
epochs are fixed:

    git worktree add /tmp/before <commit>
    (cd /tmp/before && python benchmarks/bench_exam_report.py --quick --keep /tmp/exam-before)
    python benchmarks/bench_exam_report.py --quick --keep /tmp/exam-after
    python benchmarks/same_results.py /tmp/exam-before/results.json /tmp/exam-after/results.json

(`convlens report --quick --out DIR` likewise for the demo.) A full report plans its epochs from
the measured speed, so two full runs may train for different numbers of epochs.
"""

import argparse
import json
import math
from pathlib import Path

# keys whose values differ between runs of the same code: a key any of whose "_"-separated
# words is one of these (absolute paths, such as a run's folder, are skipped as values)
BY_NATURE = {"seconds", "minutes", "cpu", "estimated", "figure", "figures"}


def _by_nature(key: str) -> bool:
    return bool(BY_NATURE & set(key.lower().split("_")))


def _a_path(value) -> bool:
    return isinstance(value, str) and value.startswith("/")


def differences(a, b, where: str = "") -> tuple[list[str], int]:
    """(the differing places, how many values were compared)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out, n = [], 0
        for k in sorted(set(a) | set(b)):
            if _by_nature(k) or (_a_path(a.get(k)) and _a_path(b.get(k))):
                continue
            if k not in a or k not in b:
                out.append(f"{where}.{k}: only in {'the first' if k in a else 'the second'}")
                continue
            more, m = differences(a[k], b[k], f"{where}.{k}")
            out, n = out + more, n + m
        return out, n
    if isinstance(a, list) and isinstance(b, list):
        out = [f"{where}: {len(a)} against {len(b)} items"] if len(a) != len(b) else []
        n = 0
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            more, m = differences(x, y, f"{where}[{i}]")
            out, n = out + more, n + m
        return out, n
    both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return ([] if a == b or both_nan else [f"{where}: {a!r:.80} against {b!r:.80}"]), 1


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("first", type=Path)
    p.add_argument("second", type=Path)
    args = p.parse_args()
    found, n = differences(*(json.loads(f.read_text()) for f in (args.first, args.second)))
    for line in found[:50]:
        print(line)
    print(f"{len(found)} differences among {n} values compared")


if __name__ == "__main__":
    main()
