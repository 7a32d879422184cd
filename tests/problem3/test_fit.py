"""Problem 3's plan fitted to the demo report's minutes (convlens.problem3.plan.fit): a slower
CPU gets the same minutes with fewer epochs, never under half the need; a faster one spends its
spare minutes on epochs, never past the recipes' most; both studies keep their shares."""

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
    fitted = fit(loaded, plan, -0.2 * 324)  # the report would run 20 % of training over
    assert fitted.budget.total_minutes == pytest.approx(4.0, abs=0.01)
    assert fitted.shapes_budget.total_minutes == pytest.approx(0.32, abs=0.01)
    assert fitted.budget.given and fitted.budget.needs == NEEDS  # shares still by need
    assert sum(fitted.seconds.values()) == pytest.approx(0.8 * 324, abs=1)
    floor = fit(loaded, plan, -10 * 324)  # far too slow: half the need, and the plan says so
    assert floor.budget.total_minutes == pytest.approx(MIN_FIT * 5.0, abs=0.01)


def test_a_faster_cpu_spends_its_spare_minutes_on_epochs_up_to_the_recipes(monkeypatch, tmp_path):
    loaded, plan = _plan(monkeypatch, tmp_path)
    fitted = fit(loaded, plan, 0.5 * 324)
    assert fitted.budget.total_minutes == pytest.approx(7.5, abs=0.01)
    most = fit(loaded, plan, 100 * 324)  # every recipe's epochs: 4 x 30 s + 30 x 24 s
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
