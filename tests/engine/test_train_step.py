"""convlens.engine.train_step: the one optimisation step, checked against the same update
written out by hand, and shown to be the step that training, its speed measurement (the time
plan) and the demo's digit classifier all run."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convlens.engine import train_step as train_step_module
from convlens.engine.train_step import TrainStep
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.speed import epoch_seconds
from convlens.jigsaw.training.train import train


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 5),
    )


def test_a_step_is_adamw_its_schedule_and_the_moving_average_written_out_by_hand():
    x, y = torch.randn(6, 3, 8, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    net, oracle = _net(), _net()
    opt = torch.optim.AdamW(net.parameters(), lr=0.05, weight_decay=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=5)
    fn = torch.optim.swa_utils.get_ema_multi_avg_fn(0.9)
    average = torch.optim.swa_utils.AveragedModel(net, multi_avg_fn=fn, use_buffers=True)
    step = TrainStep(net, opt, label_smoothing=0.1, scheduler=sched, average=average)

    o_opt = torch.optim.AdamW(oracle.parameters(), lr=0.05, weight_decay=0.1)
    o_sched = torch.optim.lr_scheduler.OneCycleLR(o_opt, max_lr=0.05, total_steps=5)
    shadow = copy.deepcopy(oracle)
    seen = []
    for _ in range(3):
        value, logits = step(x, y, seen.append)
        loss = F.cross_entropy(oracle(x), y, label_smoothing=0.1)
        assert value == pytest.approx(loss.item(), rel=1e-6)
        assert logits.shape == (6, 5)
        o_opt.zero_grad()
        loss.backward()
        o_opt.step()
        o_sched.step()
        with torch.no_grad():  # AveragedModel copies the weights on its first update
            first = len(seen) == 1
            for s, p in zip(
                shadow.state_dict().values(), oracle.state_dict().values(), strict=True
            ):
                if s.is_floating_point():
                    s.copy_(p if first else 0.9 * s + 0.1 * p)
    assert len(seen) == 3
    for a, b in zip(net.parameters(), oracle.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    for a, b in zip(average.module.parameters(), shadow.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert sched.last_epoch == o_sched.last_epoch == 3


def test_a_divergence_check_stops_before_the_update():
    net = _net()
    before = [p.detach().clone() for p in net.parameters()]
    step = TrainStep(net, torch.optim.SGD(net.parameters(), lr=1.0))

    def stop(value: float) -> None:
        raise RuntimeError(f"diverged at {value}")

    with pytest.raises(RuntimeError, match="diverged"):
        step(torch.randn(2, 3, 8, 8), torch.tensor([0, 1]), stop)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


@pytest.fixture
def steps_taken(monkeypatch):
    """What every TrainStep called during a test was built with."""
    taken = []
    original = TrainStep.__call__

    def spy(self, x, y, before_update=None):
        taken.append(
            (
                self.scheduler is not None,
                self.average is not None,
                self.label_smoothing,
                self.channels_last,
                type(self.optimizer).__name__,
            )
        )
        return original(self, x, y, before_update)

    monkeypatch.setattr(train_step_module.TrainStep, "__call__", spy)
    return taken


def test_the_time_plan_measures_the_step_that_is_trained(tmp_path, steps_taken):
    """The plan's speed measurement (epoch_seconds) must time the step training runs: with its
    schedule, moving average, label smoothing and layout (issue 40: it timed a bare AdamW)."""
    rng = np.random.default_rng(0)
    originals = rng.integers(0, 256, (24, 3, 32, 32), dtype=np.uint8)
    cfg = TrainConfig(
        epochs=1,
        batch_size=8,
        shuffles=1,
        precision="fp32",
        ema_epochs=1.0,
        label_smoothing=0.05,
        model=model_config(width=0.125, hidden=16, input_size=32),
    )
    epoch_seconds(originals, 24, cfg, steps=1)
    planned = set(steps_taken)
    steps_taken.clear()
    orders = np.zeros((24, 4), dtype=np.int64) + np.arange(4)
    train(originals, orders, tmp_path / "run", cfg)
    trained = set(steps_taken)
    assert planned == trained == {(True, True, 0.05, True, "AdamW")}


def test_the_digit_classifier_trains_with_the_same_step(steps_taken):
    from convlens.demo.digits import train_digits_classifier

    train_digits_classifier(seed=0, epochs=1)
    assert steps_taken and {s[4] for s in steps_taken} == {"Adam"}


def test_the_plan_times_steady_steps_and_a_warm_inference_call(monkeypatch):
    """oneDNN sets up its kernels in the first calls: the speed leaves the first WARM_UP
    training steps and the first inference call out of its figures (issue 43: the plan read the
    CFN's epoch 1.3x too slow on a CPU held to AVX2). A fake clock gives each call its time."""
    from types import SimpleNamespace

    from convlens.jigsaw.training import speed

    clock = [0.0]
    # two warm-up steps, then five timed: a median of 1.0 (6.0 had the second step been timed)
    train_times = iter([9.0, 6.0, 1.0, 6.0, 1.0, 6.0, 1.0])
    infer_times = iter([4.0, 0.8])  # the first call sets up, the second is timed

    def fake_step(*batch):
        clock[0] += next(train_times)

    def fake_predict(*args, **kwargs):
        clock[0] += next(infer_times)

    fake_step.average = None
    monkeypatch.setattr(speed, "training_step", lambda *a, **k: fake_step)
    monkeypatch.setattr(speed, "predict_log_probs", fake_predict)
    monkeypatch.setattr(speed, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    originals = np.zeros((16, 3, 32, 32), dtype=np.uint8)
    cfg = TrainConfig(
        batch_size=8,
        shuffles=1,
        val_fraction=0.25,
        model=model_config(width=0.125, hidden=16, input_size=32),
    )
    epoch, per_image = speed.epoch_seconds(originals, 80, cfg)
    assert per_image == pytest.approx(0.8 / 8)
    # 60 fitted images -> 8 steps of 1.0 s, and 20 validation images at 0.1 s
    assert epoch == pytest.approx(8 * 1.0 + 20 * 0.1)
