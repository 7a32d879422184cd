"""results.json: the whole report's numbers as one record, written by `write_results` and read
back by `read_results` (convlens.record keeps the file's layout and checks it on reading)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from convlens import atomic
from convlens.errors import ConvlensError
from convlens.problem2.answers import Problem2Results
from convlens.problem3.study_records import Problem3Results
from convlens.record import from_json, key
from convlens.theory import TheoryResults


@dataclass(frozen=True)
class ReportResults:
    convlens_version: str
    seed: int
    problem1: TheoryResults
    problem2: Problem2Results
    problem3: Problem3Results
    seconds: dict[str, float]  # per section, as this run saw it (a cached one takes almost none)
    # per step, estimated before the report started ("problem2: 2c_class_models"; None: quick)
    estimated_seconds: dict[str, float] | None = key(omit_if_none=True, default=None)


def write_results(path: Path, results: ReportResults) -> Path:
    return atomic.write_json(path, results)


def read_results(path: Path) -> ReportResults:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConvlensError(f"{path}: cannot read results ({exc})") from exc
    return from_json(ReportResults, data, str(path))
