"""What the tests read in a rendered report page: every number of its tables is a number of
the results, to its printed precision, and every figure it names exists."""

from __future__ import annotations

import json
import re
from pathlib import Path


def check_numbers(page: str, results: dict) -> None:
    """Every number in a table of the HTML appears, to its printed precision, in results."""
    flat = json.dumps(results)
    stored = [float(m) for m in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", flat)]
    for cell in re.findall(r'<td class="num">([^<]*)</td>', page):
        value = float(cell)
        if value != value:
            assert "null" in flat  # results.json is strict JSON: a NaN is stored as null
            continue
        assert any(abs(s - value) <= printed_precision(cell) for s in stored), cell


def printed_precision(cell: str) -> float:
    """Half a unit of the last printed digit ("0.125" -> 5e-4, "3.0e-09" -> 5e-11)."""
    mantissa, _, exponent = cell.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10 ** (int(exponent or 0) - decimals) + 1e-12


def check_figures(page: str, out: Path) -> None:
    names = re.findall(r'data-file="([^"]+)"', page)
    assert names
    for name in names:
        assert (out / "figures" / name).exists(), name
