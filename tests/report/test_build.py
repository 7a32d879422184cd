"""convlens.report.build and the section contract (convlens.sections): every section's inputs
are checked once, before anything runs; every section that will compute is estimated and its
plan printed before the first one starts (a section already in the cache is not); compute gets
the very inputs check read and the very plan estimate made."""

from dataclasses import dataclass

from convlens.report import build
from convlens.report.build import ReportContext, build_report, plan_sections
from convlens.report.cache import cache_key, cached
from convlens.sections import Plan, Section


@dataclass
class _Record:
    value: int = 0


def _section(name: str, parts: dict[str, float], log: list) -> Section:
    def check(ctx):
        log.append(("check", name))
        return {"loaded": name}

    def estimate(loaded, key):
        log.append(("estimate", name, loaded["loaded"], key))
        return Plan(parts)

    def compute(loaded, plan):
        log.append(("compute", name, loaded["loaded"], plan.seconds))
        return _Record(len(plan.seconds))

    return Section(
        name, _Record, lambda ctx: {}, check, estimate, compute, lambda doc, r, ctx: None
    )


def test_plan_estimates_each_section_to_compute_and_skips_the_cached(tmp_path, monkeypatch, capsys):
    log = []
    two = _section("problem2", {"2c_class_models": 480.0, "2d_top5": 3.0}, log)
    three = _section(
        "problem3", {"3a_training vgg11_bn": 720.0, "3b_evaluation vgg11_bn": 40.0}, log
    )
    old = _section("old", {"never": 1.0}, log)
    monkeypatch.setattr(build, "sections", lambda ctx: [two, three, old])
    ctx = ReportContext(out=tmp_path)
    keys = {name: cache_key(section=name) for name in ("problem2", "problem3", "old")}
    ctx.cache.mkdir(parents=True)
    cached(ctx.cache, "old", keys["old"], lambda: _Record(1), _Record)  # a whole entry
    loaded = {name: {"loaded": name} for name in keys}
    plans = plan_sections(ctx, keys, loaded)
    assert {n: p.seconds for n, p in plans.items()} == {
        "problem2": {"2c_class_models": 480.0, "2d_top5": 3.0},
        "problem3": {"3a_training vgg11_bn": 720.0, "3b_evaluation vgg11_bn": 40.0},
    }
    assert log == [
        ("estimate", "problem2", "problem2", keys["problem2"]),
        ("estimate", "problem3", "problem3", keys["problem3"]),
    ]
    err = capsys.readouterr().err
    assert "plan: problem2 about 8.1 min (2c_class_models 8.0)" in err  # parts under 30 s omitted
    assert "plan: problem3 about 12.7 min" in err
    assert "about 21 min in all" in err


def test_the_quick_report_prints_no_plan_but_hands_one_to_compute(tmp_path, monkeypatch, capsys):
    log = []
    monkeypatch.setattr(build, "sections", lambda ctx: [_section("problem2", {"x": 1.0}, log)])
    loaded = {"problem2": {"loaded": "problem2"}}
    plans = plan_sections(ReportContext(out=tmp_path, quick=True), {"problem2": "k"}, loaded)
    assert "plan:" not in capsys.readouterr().err
    assert set(plans) == {"problem2"}


def test_compute_gets_what_check_read_and_the_plan_estimate_made(tmp_path, monkeypatch):
    log = []
    sections = [_section("problem1", {}, log), _section("problem2", {"x": 2.0}, log)]
    monkeypatch.setattr(build, "sections", lambda ctx: sections)
    monkeypatch.setattr(build.summary, "glance_rows", lambda results: [])
    monkeypatch.setattr(build, "ReportResults", lambda **kw: kw)
    monkeypatch.setattr(build, "_timing_appendix", lambda doc, results: None)
    monkeypatch.setattr(build, "write_results", lambda path, results: None)
    monkeypatch.setattr(build.Document, "write", lambda self, out: {})
    build_report(ReportContext(out=tmp_path / "report"))
    assert [e for e in log if e[0] == "check"] == [("check", "problem1"), ("check", "problem2")]
    assert log.index(("check", "problem2")) < min(
        i for i, e in enumerate(log) if e[0] == "estimate"
    )  # every input checked before anything is measured
    assert ("compute", "problem2", "problem2", {"x": 2.0}) in log
    assert sum(e[0] == "check" for e in log) == 2  # read once, not again by estimate or compute
