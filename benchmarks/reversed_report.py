"""Does the report's prose follow its numbers? Render every result sentence of a results.json
three times: as it is, with every finding reversed, and with every compared pair tied; print
the findings that survive a reversal or a tie (numbers masked), which the prose should not.

The reversal is made on the tree, whatever the data: every score in [0, 1] (accuracies,
probabilities, areas, correlations, calibration errors) becomes 1 - x, which turns every
comparison between two of them around; every paired difference and its interval change sign.
The tie sets every such score to one value and every difference to zero inside its noise.
It is the check kept outside the suite (tests/report/discussion/test_reversals.py is the one
inside it): run it on a report made from other data.

    python benchmarks/reversed_report.py report/results.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from convlens.report import discussion
from convlens.report.results_file import ReportResults, read_results
from convlens.report.summary import glance_rows

# Words that state a finding; a sentence with none of them states no comparison.
FINDING = re.compile(
    r"higher|lower|faster|slower|ahead|beat|better|worse|taught|clears?\b|flags|follows|"
    r"removed|cost|convinced|stands out|within|larger than|the highest|best fusion|agrees"
)
SKIP = {"seed", "n", "k", "epoch", "dim", "correct", "count"}  # counts, not scores


def _transform(node, mode: str, key: str = ""):
    if isinstance(node, dict):
        if {"difference", "low", "high", "real"} <= set(node):
            d, low, high = node["difference"], node["low"], node["high"]
            if mode == "reversed":
                return {**node, "difference": -d, "low": -high, "high": -low}
            return {**node, "difference": 0.0, "low": -0.01, "high": 0.01, "real": False}
        return {k: _transform(v, mode, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_transform(v, mode, key) for v in node]
    if isinstance(node, float) and 0.0 <= node <= 1.0 and key not in SKIP:
        return 1.0 - node if mode == "reversed" else 0.5
    return node


def sentences(r: ReportResults) -> dict[str, str]:
    """Every result sentence the report prints, by section."""
    p2, p3 = r.problem2, r.problem3
    out = {"1d": discussion.minimisers_1d(r.problem1.checks)}
    if p2.validation is not None:
        out["2b"] = discussion.accuracy_2b(p2.validation)
    out |= {
        "2c": discussion.class_models_2c(p2.class_viz),
        "2d": discussion.top5_2d(p2.top5),
        "2e-2f": discussion.maps_2ef(p2.quality),
        "2h": discussion.mc_dropout_2h(p2.uncertainty, p2.calibration),
        "3b": discussion.deshuffle_3b(p3.evaluation),
        "3b networks": discussion.networks_3b(p3.study.networks),
        "3c": discussion.probe_3c(p3.probe),
        "3d": discussion.study_3d(p3.study.networks),
        "at a glance": " ".join(f"{g['question']}: {g['answer']}." for g in glance_rows(r)),
    }
    if p3.shapes is not None:
        out["3d digits"] = discussion.shapes_3d(p3.study.networks, p3.shapes.networks)
    return out


def _findings(text: str) -> set[str]:
    masked = re.sub(r"[-+]?\d+\.?\d*(e[-+]?\d+)?", "#", text)
    return {s.strip() for s in re.split(r"(?<=[.:;])\s+", masked) if FINDING.search(s)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    tree = json.loads(args.results.read_text("utf-8"))
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("original", "reversed", "tied"):
            path = Path(tmp) / f"{mode}.json"
            path.write_text(json.dumps(tree if mode == "original" else _transform(tree, mode)))
            versions[mode] = sentences(read_results(path))
    survived = 0
    for section, text in versions["original"].items():
        original = _findings(text)
        for mode in ("reversed", "tied"):
            for s in sorted(original & _findings(versions[mode][section])):
                survived += 1
                print(f"[{section}] survives the {mode} version: {s}")
    print(
        f"{survived} finding(s) of {sum(len(_findings(t)) for t in versions['original'].values())}"
        " survive a reversal or a tie (read each: a count or a name can survive honestly)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
