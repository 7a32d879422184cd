import json
import re
from pathlib import Path

import pytest
import torch

from convlens.report import ReportContext, build_report
from convlens.report.mathtext import markdown_to_html

SECTIONS = [
    "1a.",
    "1b.",
    "1c.",
    "1d.",
    "1e.",
    "2a.",
    "2b.",
    "2c.",
    "2d.",
    "2e-2f.",
    "2g.",
    "2h.",
    "3a.",
    "3b.",
    "3c.",
    "3d.",
]


def test_markdown_math_becomes_svg_but_code_is_untouched():
    page = markdown_to_html("Inline $z_0$ and\n\n$$\\frac{1}{2}$$\n\n    x = '$notmath$'\n")
    assert page.count("data:image/svg+xml;base64,") == 2
    assert "$notmath$" in page


def _check_numbers(page: str, results: dict) -> None:
    """Every number in a table of the HTML appears (to its printed precision) in results."""
    flat = json.dumps(results)
    stored = [float(m) for m in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", flat)]
    for cell in re.findall(r'<td class="num">([^<]*)</td>', page):
        value = float(cell)
        if value != value:
            assert "NaN" in flat or "null" in flat  # results.json is strict JSON
            continue
        assert any(abs(s - value) <= 5e-4 * max(1.0, abs(value)) for s in stored), cell


def _check_figures(page: str, out: Path) -> None:
    names = re.findall(r'data-file="([^"]+)"', page)
    assert names
    for name in names:
        assert (out / "figures" / name).exists(), name


@pytest.mark.slow
def test_full_report_on_the_demo_resumes_after_interruption(problem2_dir, tmp_path, monkeypatch):
    from convlens.report import problem3

    calls = {"n": 0}
    real_evaluate = problem3.evaluate_run

    def interrupted(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt  # after the jigsaw training, before its evaluation
        return real_evaluate(*args, **kw)

    monkeypatch.setattr(problem3, "evaluate_run", interrupted)
    ctx = ReportContext(out=tmp_path, quick=True, problem2=problem2_dir)
    with pytest.raises(KeyboardInterrupt):
        build_report(ctx)
    cache = tmp_path / "cache"
    assert (cache / "problem1.json").exists() and (cache / "problem2.json").exists()
    (run,) = (tmp_path / "runs").glob("jigsaw-*")  # one run folder per data and settings
    checkpoint = run / "checkpoint.pt"
    trained_at = checkpoint.stat().st_mtime_ns
    p2_at = (cache / "problem2.json").stat().st_mtime_ns

    built = build_report(ctx)  # continues: nothing already computed is redone
    assert checkpoint.stat().st_mtime_ns == trained_at
    assert (cache / "problem2.json").stat().st_mtime_ns == p2_at

    page = (tmp_path / "report.html").read_text()
    assert (tmp_path / "report.pdf").stat().st_size > 10_000
    for heading in (
        "Problem 1: cross-entropy",
        "Problem 2: inspecting an ImageNet VGG16",
        "Problem 3: learning to de-shuffle",
    ):
        assert heading in built["headings"]
    for section in SECTIONS:
        assert section in page, section
    assert page.count("ran on the built-in demo") == 2
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["problem2"]["mode"] == "demo" and results["problem3"]["mode"] == "demo"
    _check_numbers(page, results)
    _check_figures(page, tmp_path)


def test_problem2_section_on_the_imagenet_path(problem2_dir, tmp_path, monkeypatch):
    """With weights present the report runs VGG16's steps; a tiny 1000-class VGG stands in."""
    from convlens.models import vgg11
    from convlens.report import problem2
    from convlens.report.document import Document

    def tiny(init_weights=True):
        return vgg11(width=0.0625, hidden=32, init_weights=init_weights)

    torch.manual_seed(0)
    weights = tmp_path / "tiny.pth"
    torch.save(tiny().state_dict(), weights)
    monkeypatch.setattr(problem2, "vgg16", tiny)
    ctx = ReportContext(out=tmp_path, quick=True, problem2=problem2_dir, weights=str(weights))
    ctx.figures.mkdir(parents=True)
    results = problem2.compute(ctx)
    assert results["mode"] == "imagenet"
    assert results["validation"]["n"] == 95 and len(results["top5"]) == 5
    assert results["calibration"]["n"] == 95
    doc = Document("t")
    problem2.render(doc, json.loads(json.dumps(results)), ctx)
    page = doc.to_html()
    assert "built-in demo" not in page and "2h." in page
    _check_numbers(page, {"p2": results})
    _check_figures(page, tmp_path)
