"""convlens.report.build's plan: every section that will compute is estimated and printed
before the first one starts; a section already in the cache is not."""

import json

from convlens.report import build
from convlens.report.build import ReportContext, _plan
from convlens.report.cache import cache_key


class _Section:
    def __init__(self, parts: dict[str, float], log: list):
        self.parts, self.log = parts, log

    def estimate(self, ctx, key):
        self.log.append(("estimate", key))
        return self.parts


def test_plan_estimates_each_section_to_compute_and_skips_the_cached(tmp_path, monkeypatch, capsys):
    log = []
    two = _Section({"2c_class_models": 480.0, "2d_top5": 3.0}, log)
    three = _Section({"3a_training vgg11_bn": 720.0, "3b_evaluation vgg11_bn": 40.0}, log)
    cached_one = _Section({"never": 1.0}, log)
    monkeypatch.setattr(
        build,
        "sections",
        lambda ctx: [("problem2", two, {}), ("problem3", three, {}), ("old", cached_one, {})],
    )
    ctx = ReportContext(out=tmp_path)
    keys = {name: cache_key(section=name) for name in ("problem2", "problem3", "old")}
    ctx.cache.mkdir(parents=True)
    (ctx.cache / "old.json").write_text(json.dumps({"key": keys["old"], "results": {}}))
    seconds = _plan(ctx, keys)
    assert seconds == {
        "problem2: 2c_class_models": 480.0,
        "problem2: 2d_top5": 3.0,
        "problem3: 3a_training vgg11_bn": 720.0,
        "problem3: 3b_evaluation vgg11_bn": 40.0,
    }
    assert log == [("estimate", keys["problem2"]), ("estimate", keys["problem3"])]
    err = capsys.readouterr().err
    assert "plan: problem2 about 8.1 min (2c_class_models 8.0)" in err  # parts under 30 s omitted
    assert "plan: problem3 about 12.7 min" in err
    assert "about 21 min in all" in err


def test_the_quick_report_plans_nothing(tmp_path, monkeypatch):
    log = []
    monkeypatch.setattr(
        build, "sections", lambda ctx: [("problem2", _Section({"x": 1.0}, log), {})]
    )
    assert _plan(ReportContext(out=tmp_path, quick=True), {"problem2": "k"}) is None
    assert log == []
