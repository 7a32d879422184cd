"""The whole report on the demo: resumed after an interruption, every number in the page from
results.json, every figure on its page, in a real browser."""

import html
import json
import re
from pathlib import Path

import pytest
from report_page import check_figures, check_numbers

from convlens.report import ReportContext, build_report

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


@pytest.fixture(scope="module")
def demo_report(problem2_dir, tmp_path_factory):
    """The quick demo report, interrupted once after the jigsaw training and then resumed."""
    from convlens.problem3 import study

    out = tmp_path_factory.mktemp("report")
    calls = {"n": 0}
    real_evaluate = study.evaluate_model

    def interrupted(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt  # after the jigsaw training, before its evaluation
        return real_evaluate(*args, **kw)

    ctx = ReportContext(out=out, quick=True, problem2=problem2_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(study, "evaluate_model", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_report(ctx)
        cache = out / "cache"
        first = {
            "problem1": (cache / "problem1.json").exists(),
            "problem2_at": (cache / "problem2.json").stat().st_mtime_ns,
        }
        (runs,) = (out / "runs").glob("jigsaw-*")  # one run folder per data and settings
        run = runs / "edgenet"  # the first network of the study
        first["trained_at"] = (run / "checkpoint.pt").stat().st_mtime_ns
        built = build_report(ctx)  # continues: nothing already computed is redone
    return {"out": out, "built": built, "first": first, "run": run}


def _numbers(text: str) -> list[str]:
    """The numbers a sentence quotes, less citations' years and section labels."""
    text = re.sub(r"\([^()]*\b(19|20)\d\d\b[^()]*\)", " ", text)  # (Adebayo et al. 2018)
    text = re.sub(
        r"<[^>]+>|#\d+|(?<![\w.])[123][a-h]\b|k = \d+|N = \d+|(Table|Figure) \d+", " ", text
    )
    return re.findall(r"(?<![\w.])-?\d+\.?\d*(?:e[-+]?\d+)?(?![\w.])", text)


_BROWSER_CHECK = """
window.addEventListener('load', () => {
  const images = [...document.images];
  const bad = images.filter(i => !(i.complete && i.naturalWidth > 0)
                              || i.getBoundingClientRect().width < 1).map(i => i.alt);
  const links = [...document.querySelectorAll('a[href^="#"]')];
  const broken = links.map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
                      .filter(id => !document.getElementById(id));
  document.title = 'RESULT:' + JSON.stringify({
    images: images.length, bad_images: bad, links: links.length, broken_links: broken,
    viewport: document.documentElement.clientWidth,
    scroll_width: document.documentElement.scrollWidth});
});
"""


# Keys whose values depend on the clock or the folder, not on the computation.
_MACHINE_KEYS = {"seconds", "training_minutes", "run", "cpu"}


def _layout(a, b, numbers: bool, where: str = "") -> None:
    """The same keys in the same order and the same kinds of value; with `numbers`, the same
    numbers within float rounding."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            if k not in _MACHINE_KEYS:
                _layout(a[k], b[k], numbers, f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list), where
        if numbers or (a and isinstance(a[0], dict | list)):
            assert len(a) == len(b), where
        for x, y in zip(a, b, strict=False):
            _layout(x, y, numbers, f"{where}[]")
    elif isinstance(a, int | float) and not isinstance(a, bool):
        if b is None and not numbers:
            return  # NaN written as null, e.g. a reliability bin that stays empty on this CPU
        assert isinstance(b, int | float) and not isinstance(b, bool), where
        if numbers:
            assert b == pytest.approx(a, rel=1e-9, abs=1e-12), where
    elif a is not None and b is not None:
        assert type(a) is type(b), where
        if numbers and isinstance(a, str | bool):
            assert a == b, where


@pytest.mark.slow
def test_full_report_on_the_demo_resumes_after_interruption(demo_report):
    out, built, first = demo_report["out"], demo_report["built"], demo_report["first"]
    assert first["problem1"]
    assert (demo_report["run"] / "checkpoint.pt").stat().st_mtime_ns == first["trained_at"]
    assert (out / "cache" / "problem2.json").stat().st_mtime_ns == first["problem2_at"]

    page = (out / "report.html").read_text()
    assert (out / "report.pdf").stat().st_size > 10_000
    for heading in (
        "Problem 1: cross-entropy",
        "Problem 2: inspecting an ImageNet VGG16",
        "Problem 3: learning to de-shuffle",
    ):
        assert heading in built.headings
    for section in SECTIONS:
        assert section in page, section
    assert page.count("ran on the built-in demo") == 2
    results = json.loads((out / "results.json").read_text())
    assert results["problem2"]["mode"] == "demo" and results["problem3"]["mode"] == "demo"
    check_numbers(page, results)
    check_figures(page, out)


def test_summary_links_every_question_and_quotes_results(demo_report):
    from convlens.report.results_file import read_results
    from convlens.report.summary import glance_rows

    page = (demo_report["out"] / "report.html").read_text()
    results = json.loads((demo_report["out"] / "results.json").read_text())
    rows = glance_rows(read_results(demo_report["out"] / "results.json"))
    assert [r["question"] for r in rows][:3] == ["1a", "1b", "1c"] and len(rows) == 17
    glance = page[page.index('id="at-a-glance"') : page.index('id="contents"')]
    ids = set(re.findall(r' id="([^"]+)"', page))
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', glance)
    assert [q for _, q in links] == [r["question"] for r in rows]  # every question links
    assert all(anchor in ids for anchor, _ in links)
    assert sum(len(_numbers(r["answer"])) for r in rows) > 20  # the check below reads numbers
    for r in rows:  # every number of the summary is a number of results.json
        check_numbers("".join(f'<td class="num">{n}</td>' for n in _numbers(r["answer"])), results)
    discussion = re.findall(r'<div class="discussion">(.*?)</div>', page, re.S)
    assert len(discussion) >= 6 and sum(len(_numbers(t)) for t in discussion) > 40
    for text in discussion:
        check_numbers("".join(f'<td class="num">{n}</td>' for n in _numbers(text)), results)


def test_pdf_layout_fits_every_figure_and_table_on_its_page(demo_report):
    """From WeasyPrint's own layout of the PDF: no image or table runs past the right margin,
    and the PDF has an outline (bookmarks) of the headings."""
    import weasyprint

    page_html = (demo_report["out"] / "report.html").read_text()
    doc = weasyprint.HTML(string=page_html).render()
    too_wide, checked, bookmarks = [], 0, 0
    for number, page in enumerate(doc.pages, 1):
        box = page._page_box
        right = box.margin_left + box.padding_left + box.width + 0.5
        bookmarks += len(page.bookmarks)
        stack = [box]
        while stack:
            b = stack.pop()
            stack.extend(getattr(b, "children", None) or [])
            if getattr(b, "element_tag", None) in ("img", "table"):
                checked += 1
                if b.position_x + b.margin_width() > right:
                    too_wide.append((number, b.element_tag, round(b.margin_width())))
    assert checked > 20 and not too_wide
    assert bookmarks >= 20


def test_report_in_a_real_browser(demo_report, tmp_path):
    """Headless Chromium at 1280 and 400 px (headless windows are at least 500 px wide, so
    the narrow check runs at about 485 px of viewport): every image decodes and is visible,
    the page is never wider than the window, every internal link resolves, no console
    errors."""
    import shutil
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-headless-shell")
    if chromium is None:
        pytest.skip("no Chromium on this machine (Debian: apt install chromium)")
    page = (demo_report["out"] / "report.html").read_text()
    probe = page.replace("</body>", f"<script>{_BROWSER_CHECK}</script></body>")
    path = tmp_path / "probe.html"
    path.write_text(probe)
    for width in (1280, 400):
        proc = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},900",
             "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0", "--dump-dom",
             path.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        found = re.search(r"<title>RESULT:(.*?)</title>", proc.stdout, re.S)
        assert found, (width, proc.returncode, proc.stdout[-300:])
        result = json.loads(html.unescape(found.group(1)))
        assert result["images"] > 20 and result["bad_images"] == [], result
        assert result["scroll_width"] <= result["viewport"] + 1, result
        assert result["broken_links"] == [] and result["links"] > 20, result
        errors = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln and "probe.html" in ln]
        assert errors == [], errors


def test_the_demo_results_keep_the_layout_they_had_before_results_were_typed(demo_report):
    """Against the quick demo's results.json in tests/data (first written before the records
    existed, written again with the same layout when a recipe changed): every key in its place.
    Problem 1's numbers must agree anywhere; the trained sections' agree within float rounding
    on the kind of CPU that wrote the file (training differs in the last bits between CPU
    kinds, and bf16 where it is native)."""
    from convlens.runtime import cpu_kind

    before = json.loads((Path(__file__).parent / "demo_results.json").read_text())
    after = json.loads((demo_report["out"] / "results.json").read_text())
    same_cpu = before["problem3"]["study"]["networks"]["edgenet"]["cpu"] == cpu_kind()
    assert list(after) == list(before)
    _layout(before["problem1"], after["problem1"], numbers=True)
    for section in ("problem2", "problem3"):
        _layout(before[section], after[section], numbers=same_cpu, where=section)
