import json
import re
from pathlib import Path

from convlens.report import ReportContext, build_report
from convlens.report.mathtext import markdown_to_html


def test_markdown_math_becomes_svg_but_code_is_untouched():
    page = markdown_to_html("Inline $z_0$ and\n\n$$\\frac{1}{2}$$\n\n    x = '$notmath$'\n")
    assert page.count("data:image/svg+xml;base64,") == 2
    assert "$notmath$" in page


def _numbers_in_tables(page: str) -> list[str]:
    cells = re.findall(r'<td class="num">([^<]*)</td>', page)
    return cells


def test_report_problem1(tmp_path: Path):
    built = build_report(ReportContext(out=tmp_path, quick=True))
    page = (tmp_path / "report.html").read_text()
    assert "Problem 1: cross-entropy" in built["headings"]
    for q in ("1a.", "1b.", "1c.", "1d.", "1e."):
        assert q in page
    results = json.loads((tmp_path / "results.json").read_text())
    flat = json.dumps(results)
    for cell in _numbers_in_tables(page):
        value = float(cell)
        if value != value:  # NaN is written as NaN in JSON
            assert "NaN" in flat
            continue
        assert any(
            abs(float(m) - value) <= 5e-4 * max(1.0, abs(value))
            for m in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", flat)
        ), cell
    # Re-running reuses the cache: the cached file is not rewritten.
    cache = tmp_path / "cache" / "problem1.json"
    before = cache.stat().st_mtime_ns
    build_report(ReportContext(out=tmp_path, quick=True))
    assert cache.stat().st_mtime_ns == before
