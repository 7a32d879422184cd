"""convlens.problem3.budget and convlens.jigsaw.training.speed: Problem 3's one training budget,
measured before training and shared by need, handed on when a network stops early."""

import dataclasses

import numpy as np
import pytest
import torch

from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.run_records import Epoch, TrainResult
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.speed import epoch_seconds
from convlens.problem3 import study
from convlens.problem3.budget import Need, TrainingBudget, budget_dict, plan_budget, read_budget

NEEDS = {
    "edgenet": Need(epochs=3, seconds_per_epoch=60.0, inference_seconds_per_image=1e-3),
    "vgg11_bn": Need(epochs=10, seconds_per_epoch=36.0, inference_seconds_per_image=1e-3),
    "cfn": Need(epochs=10, seconds_per_epoch=60.0, inference_seconds_per_image=1e-3),
}


def test_shares_add_up_to_the_budget_when_each_network_uses_its_own():
    budget = TrainingBudget(needs=NEEDS, total_minutes=25.0, given=False)
    spent = 0.0
    for name in NEEDS:
        share = budget.share(name, spent)
        assert share == pytest.approx(budget.planned_minutes(name), abs=0.01)
        spent += share
    assert spent == pytest.approx(25.0, abs=0.02)
    # shares follow the needs: 3, 6 and 10 minutes of need out of 19
    assert budget.planned_minutes("cfn") == pytest.approx(25.0 * 10 / 19)


def test_a_network_that_stops_early_hands_its_minutes_on_in_proportion():
    budget = TrainingBudget(needs=NEEDS, total_minutes=19.0, given=True)
    early = budget.share("vgg11_bn", spent_minutes=1.0)  # EdgeNet used 1 of its 3 minutes
    assert early == pytest.approx(18.0 * 6 / 16, abs=0.01)
    assert early > budget.planned_minutes("vgg11_bn")
    late = budget.share("vgg11_bn", spent_minutes=5.0)  # EdgeNet overran by 2 minutes
    assert late < budget.planned_minutes("vgg11_bn")
    assert budget.share("cfn", spent_minutes=30.0) == 0.1  # nothing left: still one epoch


def test_budget_reads_back_equal(tmp_path):
    budget = TrainingBudget(needs=NEEDS, total_minutes=25.0, given=False)
    path = tmp_path / "budget.json"
    path.write_text(__import__("json").dumps(budget_dict(budget)))
    assert read_budget(path) == budget


def test_study_gives_each_network_its_share_of_what_the_others_left(monkeypatch, tmp_path):
    """run_study hands the minutes the networks before one did not use to the next: each
    training run receives the share of what is left, read from the histories of those before."""
    given, used = {}, {"edgenet": 1.0, "vgg11_bn": 6.0, "cfn": 9.0}

    def fake_training(data, run, cfg, **kw):
        given[cfg.model.arch] = cfg.minutes
        row = Epoch(1, 1.0, 0.5, 1.0, seconds=used[cfg.model.arch] * 60)
        return TrainResult(str(run), [row], 1.0, 1, "perfect", n_fit=90, n_validation=10)

    monkeypatch.setattr(study, "run_training", fake_training)
    monkeypatch.setattr(study, "load_run", lambda run, device: (None, None, {"epoch": 0}))
    monkeypatch.setattr(study, "evaluate_model", lambda *a, **k: _Evaluation())
    monkeypatch.setattr(study, "probe_model", lambda *a, **k: "probe")
    monkeypatch.setattr(study, "random_network", lambda *a: None)
    monkeypatch.setattr(study, "FeatureCurve", _FlatCurve)
    budget = TrainingBudget(needs=NEEDS, total_minutes=19.0, given=False)
    configs = {n: TrainConfig(model=model_config(arch=n)) for n in NEEDS}
    result = study.run_study(None, _Normal(), tmp_path, configs, budget=budget)
    assert given == {
        "edgenet": budget.share("edgenet", 0.0),
        "vgg11_bn": budget.share("vgg11_bn", 1.0),  # EdgeNet left 2 of its 3 minutes
        "cfn": budget.share("cfn", 7.0),
    }
    assert given["vgg11_bn"] > budget.planned_minutes("vgg11_bn")
    for name, n in result.networks.items():
        assert n.budget_minutes == given[name]
        assert n.needed_minutes == pytest.approx(budget.planned_minutes(name), abs=0.01)


@dataclasses.dataclass(frozen=True)
class _Evaluation:
    images: object = None
    orders: object = None
    log_probs: object = None


class _FlatCurve:
    def __init__(self, *args, **kw):
        self.labels = [0, 1]

    def __call__(self, model):
        return {"probe_knn": 0.5, "probe_block": "block1"}


class _Normal:
    class train:  # noqa: N801 - stands in for a Split
        images = labels = groups = None


def test_plan_measures_each_network_and_keeps_the_callers_random_state():
    rng = np.random.default_rng(0)
    originals = rng.integers(0, 256, (40, 3, 64, 64), dtype=np.uint8)
    tiny = {
        "edgenet": TrainConfig(
            batch_size=8, precision="fp32", model=model_config(width=0.125, input_size=64)
        ),
        "vgg11_bn": TrainConfig(
            batch_size=8,
            epochs=20,
            precision="fp32",
            model=model_config(arch="vgg11_bn", width=0.125, input_size=64, head="seams"),
        ),
    }
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    budget = plan_budget(originals, 1000, tiny, needed={"edgenet": 2, "vgg11_bn": 50})
    assert torch.equal(torch.random.get_rng_state(), before)
    assert budget.needs["edgenet"].epochs == 2
    assert budget.needs["vgg11_bn"].epochs == 20  # never more than the recipe allows
    assert not budget.given
    assert budget.total_minutes == pytest.approx(
        sum(n.minutes for n in budget.needs.values()), abs=0.01
    )
    assert all(
        n.seconds_per_epoch > 0 and n.inference_seconds_per_image > 0 for n in budget.needs.values()
    )
    # at need, no network is planned under its need; the user's minutes set no floor
    assert (budget.floor("edgenet"), budget.floor("vgg11_bn")) == (2, 20)
    given = plan_budget(originals, 1000, tiny, minutes=7.0)
    assert given.given and given.total_minutes == 7.0 and given.floor("edgenet") == 0


def test_an_epoch_of_more_images_is_measured_longer():
    rng = np.random.default_rng(1)
    originals = rng.integers(0, 256, (24, 3, 64, 64), dtype=np.uint8)
    cfg = TrainConfig(
        batch_size=8, precision="fp32", model=model_config(width=0.125, input_size=64)
    )
    small, _ = epoch_seconds(originals, 100, cfg, steps=1)
    large, _ = epoch_seconds(originals, 10_000, cfg, steps=1)
    assert large > 20 * small  # 100x the steps; timing noise cannot close that gap
