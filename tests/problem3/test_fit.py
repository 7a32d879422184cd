"""Problem 3's plan fitted to the demo report's minutes (convlens.problem3.plan.fit): a slower
CPU gets the same minutes with fewer epochs, never under the epochs each network was measured
above its bar with; a faster one spends its spare minutes on epochs, never past the recipes'
most; the digits study keeps its share, never under half its need."""

import dataclasses
from types import SimpleNamespace

import pytest

from convlens.problem3 import plan as plan_module
from convlens.problem3.budget import Need, TrainingBudget
from convlens.problem3.plan import MIN_FIT, Problem3Plan, fit
from convlens.report.build import DEMO_MINUTES, demo_minutes
from convlens.sections import ReportContext

NEEDS = {
    "edgenet": Need(epochs=2, seconds_per_epoch=30.0, inference_seconds_per_image=1e-3),
    "cfn": Need(epochs=10, seconds_per_epoch=24.0, inference_seconds_per_image=1e-3),
}
CONFIGS = {"edgenet": SimpleNamespace(epochs=4), "cfn": SimpleNamespace(epochs=30)}


def _plan(monkeypatch, tmp_path):
    # the parts beside training are the study's own business: here, training minutes alone
    monkeypatch.setattr(
        plan_module,
        "_study_seconds",
        lambda budget, *a, **k: {"training": budget.total_minutes * 60},
    )
    monkeypatch.setattr(plan_module, "recipes_for", lambda ctx: CONFIGS)
    need = TrainingBudget(NEEDS, total_minutes=5.0, given=False)  # 1 + 4 min
    shapes = dataclasses.replace(need, total_minutes=0.4)
    plan = Problem3Plan(
        {"training": 300.0, "training (digits)": 24.0}, tmp_path, need, tmp_path, shapes
    )
    loaded = SimpleNamespace(
        ctx=ReportContext(out=tmp_path),
        data=(None, None),
        digits=(None, None),
        configs=CONFIGS,
    )
    return loaded, plan


def test_a_slower_cpu_gets_the_same_minutes_with_fewer_epochs(monkeypatch, tmp_path):
    loaded, plan = _plan(monkeypatch, tmp_path)
    fitted = fit(loaded, plan, -0.2 * 324, least={})  # the report would run 20 % over
    assert fitted.budget.total_minutes == pytest.approx(4.0, abs=0.01)
    assert fitted.shapes_budget.total_minutes == pytest.approx(0.32, abs=0.01)
    assert fitted.budget.fitted and not fitted.budget.given  # not the user's --minutes
    # the digits study's networks have no bar: its need is no floor once it is moved
    assert plan.budget.floor("cfn") == 10  # at need, before the fit
    assert fitted.shapes_budget.floor("cfn") == 0
    assert {n: need.epochs for n, need in fitted.budget.needs.items()} == {"edgenet": 2, "cfn": 8}
    assert sum(fitted.seconds.values()) == pytest.approx(0.8 * 324, abs=1)


def test_a_network_keeps_the_epochs_it_clears_its_bar_with(monkeypatch, tmp_path):
    """The CFN measured above its bar from 9 epochs keeps them; EdgeNet gives up the rest of
    the minutes, so the report still keeps to them."""
    loaded, plan = _plan(monkeypatch, tmp_path)
    fitted = fit(loaded, plan, -0.2 * 324, least={"cfn": 9})
    assert fitted.budget.needs["cfn"].epochs == 9 and fitted.budget.needs["edgenet"].epochs == 1
    # the floors travel with the budget (and its file), for each network's own planner
    assert fitted.budget.least == {"edgenet": 1, "cfn": 9}
    assert fitted.budget.floor("cfn") == 9
    assert sum(fitted.seconds.values()) == pytest.approx(0.8 * 324, abs=1)
    share = fitted.budget.planned_minutes("cfn")
    assert share == pytest.approx(9 * 24 / 60, abs=0.05)  # its floor, not by need
    # far too slow: every network at its floor, the digits study at half its need; the report
    # runs past its minutes (its plan says so)
    floor = fit(loaded, plan, -10 * 324, least={"cfn": 9})
    assert floor.budget.total_minutes == pytest.approx(1 * 0.5 + 9 * 0.4, abs=0.01)
    assert floor.shapes_budget.total_minutes == pytest.approx(MIN_FIT * 0.4, abs=0.01)
    # a floor above the need is the need
    assert fit(loaded, plan, -10 * 324, least={"cfn": 50}).budget.needs["cfn"].epochs == 10


def test_a_faster_cpu_spends_its_spare_minutes_on_epochs_up_to_the_recipes(monkeypatch, tmp_path):
    loaded, plan = _plan(monkeypatch, tmp_path)
    fitted = fit(loaded, plan, 0.5 * 324, least={})
    assert fitted.budget.total_minutes == pytest.approx(7.5, abs=0.01)
    most = fit(loaded, plan, 100 * 324, least={})  # every recipe's epochs: 4 x 30 s + 30 x 24 s
    assert most.budget.total_minutes == pytest.approx(14.0, abs=0.01)


def test_only_the_demo_keeps_to_its_minutes(tmp_path):
    assert demo_minutes(ReportContext(out=tmp_path)) == DEMO_MINUTES
    assert demo_minutes(ReportContext(out=tmp_path, problem3=tmp_path)) is None  # the exam
    assert demo_minutes(ReportContext(out=tmp_path, minutes=30.0)) is None  # the user's budget


def test_a_resumed_report_keeps_the_budget_it_was_fitted_with(monkeypatch, tmp_path):
    from convlens.problem3.plan import BUDGET_FILE

    loaded, plan = _plan(monkeypatch, tmp_path)
    (tmp_path / BUDGET_FILE).write_text("{}")  # kept by the interrupted report
    assert fit(loaded, plan, -0.2 * 324) is plan


def test_the_plan_says_when_the_demo_runs_past_its_minutes(monkeypatch, tmp_path, capsys):
    """Where the networks' floors do not fit the demo's minutes the plan says it runs past
    them; where the fit keeps to them it must not say so."""
    from convlens import sections as sections_module
    from convlens.report import build

    def section(moved: float):
        return SimpleNamespace(
            name="problem3", fit=lambda loaded, plan, s: sections_module.Plan({"training": moved})
        )

    plans = {"problem3": sections_module.Plan({"training": 900.0})}  # 15 min at need
    ctx = ReportContext(out=tmp_path)
    monkeypatch.setattr(build, "sections", lambda ctx: [section(840.0)])  # floors: 14 min
    build.fitted_plans(ctx, plans, {"problem3": None}, 720.0)
    said = capsys.readouterr().err
    assert "would keep to 12 min" in said and "about 14 min" in said
    monkeypatch.setattr(build, "sections", lambda ctx: [section(720.0)])  # it fits
    build.fitted_plans(ctx, plans, {"problem3": None}, 720.0)
    said = capsys.readouterr().err
    assert "would keep" not in said and "keeps to 12 min" in said and "shorter" in said
