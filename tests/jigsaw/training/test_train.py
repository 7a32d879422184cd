"""convlens.jigsaw.training.train: training learns real photo puzzles, identically from worker
processes; the time budget plans the epochs from the first one (and resumes on the same plan);
early stopping waits for its patience; the moving average is what is validated and kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from interrupt import interrupt_in_epoch

from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs
from convlens.engine.train_step import TrainStep
from convlens.errors import ConvlensError
from convlens.jigsaw.evaluation.inference import predict_log_probs
from convlens.jigsaw.evaluation.scoring import accuracy
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.training import train as train_module
from convlens.jigsaw.training.checkpoint import load_run
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train

TINY = model_config(width=0.125, hidden=32, input_size=32)


def _cfg(epochs=2, **kw):
    return TrainConfig(epochs=epochs, batch_size=32, precision="fp32", model=TINY, **kw)


@pytest.fixture(scope="module")
def arrays():
    return make_jigsaw_arrays(bundled_photographs(), n_train=240, n_test=24, size=32, seed=0)


class _Clock:
    """perf_counter for the training loop: every epoch takes `per_epoch` seconds."""

    def __init__(self, per_epoch: float):
        self.now, self.per_epoch, self.calls = 0.0, per_epoch, 0

    def perf_counter(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:  # called at the start and at the end of each epoch
            self.now += self.per_epoch
        return self.now


class _FirstBatchSlow:
    """The batch clock within each epoch: its first batch takes 2 s more than the others (which
    take none), as oneDNN's kernel creation makes a real first batch slower."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 0.0 if self.calls % 3 == 1 else 2.0  # start, after the first batch, the end


@pytest.mark.slow
def test_short_training_beats_chance_by_a_wide_margin(photo_arrays, tmp_path):
    data = make_jigsaw_arrays(bundled_photographs(), n_train=1200, n_test=240, size=32, seed=1)
    cfg = TrainConfig(
        epochs=6,  # 0.95 image-level here already; 12 took 25 s more of the test budget
        batch_size=64,
        lr=3e-3,
        precision="auto",  # bf16 only where the CPU runs it natively
        model=model_config(width=0.25, hidden=128, input_size=32),
        val_fraction=0.1,
    )
    train(data["a"], data["b"], tmp_path / "run", cfg)
    model, _, _ = load_run(tmp_path / "run")
    lp = predict_log_probs(model, data["c"])
    acc = accuracy(lp, data["d"])
    assert acc.image_accuracy > 0.25  # chance is 1/24 = 0.042
    assert acc.quarter_accuracy > 0.4  # chance is 0.25


def test_batches_from_worker_processes_train_identically(photo_arrays, tmp_path):
    a, b = photo_arrays["a"][:96], photo_arrays["b"][:96]
    train(a, b, tmp_path / "w0", _cfg(1))
    train(a, b, tmp_path / "w2", _cfg(1, workers=2))
    m0, _, _ = load_run(tmp_path / "w0", "checkpoint.pt")
    m2, _, _ = load_run(tmp_path / "w2", "checkpoint.pt")
    for (k, v), w in zip(m0.state_dict().items(), m2.state_dict().values(), strict=True):
        torch.testing.assert_close(v, w, msg=k)


def test_a_resume_may_change_the_workers_but_not_what_the_run_computes(
    photo_arrays, tmp_path, monkeypatch
):
    """Worker processes build the same batches (above), so a run trained with 0 workers resumes
    with 2; a setting that changes the result (the learning rate) still refuses."""
    a, b = photo_arrays["a"][:96], photo_arrays["b"][:96]
    with monkeypatch.context() as m:
        interrupt_in_epoch(2, m)  # Ctrl-C as epoch 2 ends: epoch 1's checkpoint is kept
        with pytest.raises(KeyboardInterrupt):
            train(a, b, tmp_path / "run", _cfg(2))
    with pytest.raises(ConvlensError, match=r"lr: 0.002 -> 0.1"):
        train(a, b, tmp_path / "run", _cfg(2, lr=0.1), resume=True)
    resumed = train(a, b, tmp_path / "run", _cfg(2, workers=2), resume=True)
    assert [h.epoch for h in resumed.history] == [1, 2]


def test_fp16_is_refused_on_the_cpu(photo_arrays, tmp_path):
    with pytest.raises(ConvlensError, match="fp16 needs a CUDA device"):
        train(
            photo_arrays["a"][:48],
            photo_arrays["b"][:48],
            tmp_path / "r",
            TrainConfig(epochs=1, precision="fp16", model=TINY),
        )


@pytest.mark.parametrize(
    "model,epochs",
    [
        (model_config(arch="edgenet", width=0.25, hidden=128, input_size=32), 4),
        (model_config(arch="cfn", width=0.25, hidden=128, input_size=32, gap=2), 12),
    ],
    ids=["edgenet", "cfn"],
)
def test_each_architecture_learns_real_photo_puzzles(model, epochs, tmp_path):
    """A small model, half a minute of CPU training on crops of real photographs, clearly above
    chance (1/24) on held-out crops of those photographs. (VGG-11-BN over the whole image needs
    about 9,000 puzzles before it leaves chance, minutes rather than seconds: its evidence is
    benchmarks/bench_jigsaw.py --vgg-only.)"""
    data = make_jigsaw_arrays(bundled_photographs(), n_train=1392, n_test=24, size=32, seed=2)
    rows = np.random.default_rng(0).permutation(1392)
    fit, held = rows[:1200], rows[1200:]
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, precision="fp32", model=model)
    train(data["a"][fit], data["b"][fit], tmp_path / "run", cfg)
    net, _, _ = load_run(tmp_path / "run")
    acc = accuracy(predict_log_probs(net, data["a"][held]), data["b"][held])
    assert acc.image_accuracy > 3 / 24, acc  # chance is 1/24
    assert acc.quarter_accuracy > 0.35, acc  # chance is 0.25


def test_a_budget_plans_the_epochs_from_the_first_and_resumes_on_the_same_plan(
    arrays, tmp_path, monkeypatch
):
    a, b = arrays["a"], arrays["b"]
    cfg = TrainConfig(epochs=20, minutes=0.5, batch_size=64, precision="fp32", model=TINY)
    monkeypatch.setattr(train_module, "time", _Clock(7.0))  # 30 s / 7 s: 4 epochs fit
    full = train(a, b, tmp_path / "full", cfg)
    assert full.planned_epochs == 4 and len(full.history) == 4 and full.stopped == "budget"

    # The same run, killed in its third epoch, resumed on a machine twice as fast: the plan
    # made after the first epoch stands and the weights end exactly as in the unbroken run.
    original = train_module.predict_log_probs
    monkeypatch.setattr(train_module, "time", _Clock(7.0))
    interrupt_in_epoch(3, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(a, b, tmp_path / "cut", cfg)
    monkeypatch.setattr(train_module, "predict_log_probs", original)
    monkeypatch.setattr(train_module, "time", _Clock(1.0))
    resumed = train(a, b, tmp_path / "cut", cfg, resume=True)
    assert resumed.planned_epochs == 4 and [h.epoch for h in resumed.history] == [1, 2, 3, 4]
    m_full, _, _ = load_run(tmp_path / "full", "checkpoint.pt")
    m_cut, _, _ = load_run(tmp_path / "cut", "checkpoint.pt")
    for (k, v), w in zip(m_full.state_dict().items(), m_cut.state_dict().values(), strict=True):
        torch.testing.assert_close(v, w, msg=k)


def test_the_budget_plans_from_the_first_epoch_without_its_first_batchs_warm_up(
    arrays, tmp_path, monkeypatch
):
    cfg = TrainConfig(epochs=20, minutes=0.5, batch_size=64, precision="fp32", model=TINY)
    monkeypatch.setattr(train_module, "time", _Clock(7.0))
    monkeypatch.setattr(train_module, "_batch_clock", _FirstBatchSlow())
    result = train(arrays["a"], arrays["b"], tmp_path / "run", cfg)
    assert result.planned_epochs == 6  # 30 s / (7 s - 2 s), not 30 s / 7 s = 4
    assert [h.seconds for h in result.history][:2] == [7.0, 7.0]  # the record keeps 7 s


def test_a_budget_never_plans_under_its_least_epochs(arrays, tmp_path, monkeypatch):
    """The demo's floor: 30 s at 7 s an epoch fit 4, but the network clears its bar with 6, so
    it trains 6 (the report runs past its minutes rather than under the bar)."""
    cfg = TrainConfig(
        epochs=20, minutes=0.5, least_epochs=6, batch_size=64, precision="fp32", model=TINY
    )
    monkeypatch.setattr(train_module, "time", _Clock(7.0))
    result = train(arrays["a"], arrays["b"], tmp_path / "run", cfg)
    assert result.planned_epochs == 6 and len(result.history) == 6


def test_a_budget_larger_than_the_epochs_trains_them_all(arrays, tmp_path, monkeypatch):
    cfg = TrainConfig(epochs=3, minutes=60, batch_size=64, precision="fp32", model=TINY)
    monkeypatch.setattr(train_module, "time", _Clock(5.0))
    result = train(arrays["a"], arrays["b"], tmp_path / "run", cfg)
    assert result.planned_epochs == 3 and result.stopped == "epochs"


@pytest.mark.parametrize("patience, epochs_run", [(2, 4), (3, 5), (0, 6)])
def test_early_stopping_waits_for_its_patience(patience, epochs_run, arrays, tmp_path, monkeypatch):
    """Validation made perfect from the third epoch on: training stops after `patience` perfect
    epochs in a row, never before, and never with patience 0."""
    shuffles = train_module.fixed_shuffles
    seen = {}

    def remember(originals, seed):
        shuffled, classes = shuffles(originals, seed)
        seen["classes"] = classes
        return shuffled, classes

    calls = {"n": 0}

    def validation(model, images, **kw):
        calls["n"] += 1
        right = torch.as_tensor(seen["classes"])
        guess = right if calls["n"] >= 3 else (right + 1) % 24
        return torch.log_softmax(torch.nn.functional.one_hot(guess, 24).float() * 10, 1)

    monkeypatch.setattr(train_module, "fixed_shuffles", remember)
    monkeypatch.setattr(train_module, "predict_log_probs", validation)
    cfg = TrainConfig(epochs=6, patience=patience, batch_size=64, precision="fp32", model=TINY)
    result = train(arrays["a"], arrays["b"], tmp_path / "run", cfg)
    assert len(result.history) == epochs_run
    assert result.stopped == ("perfect" if patience else "epochs")


def test_the_moving_average_is_what_is_validated_kept_and_resumed(arrays, tmp_path, monkeypatch):
    """With ema_epochs, best.pt holds the average of the weights after every step, as a plain
    loop over the steps computes it, and a run killed in its second epoch resumes to the same
    average and the same last weights."""
    a, b = arrays["a"], arrays["b"]
    cfg = TrainConfig(
        epochs=2, ema_epochs=0.5, patience=0, batch_size=64, precision="fp32", model=TINY
    )
    steps = []  # each step's weights and batch-norm statistics, copied
    init, watched = TrainStep.__init__, set()

    def init_and_watch(self, net, optimizer, *args, **kwargs):
        init(self, net, optimizer, *args, **kwargs)
        if id(optimizer) not in watched:  # one optimizer per run
            watched.add(id(optimizer))
            optimizer.register_step_post_hook(
                lambda *_: steps.append(
                    {k: v.detach().clone() for k, v in net.state_dict().items()}
                )
            )

    monkeypatch.setattr(TrainStep, "__init__", init_and_watch)
    full = train(a, b, tmp_path / "full", cfg)
    monkeypatch.setattr(TrainStep, "__init__", init)
    per_epoch = len(steps) // 2
    decay = 1 - 1 / (0.5 * per_epoch)
    averages, average = [], dict(steps[0])
    for n, state in enumerate(steps[1:], start=2):
        for k, v in state.items():
            average[k] = decay * average[k] + (1 - decay) * v if v.is_floating_point() else v
        if n % per_epoch == 0:
            averages.append(dict(average))
    m_best, _, ckpt = load_run(tmp_path / "full", "best.pt")
    for k, v in m_best.state_dict().items():
        if not v.is_floating_point():
            continue  # batch norm's step counter is not a weight
        expected = averages[int(ckpt["epoch"])][k]
        torch.testing.assert_close(v, expected, msg=k, rtol=1e-4, atol=1e-5)
    m_last, _, _ = load_run(tmp_path / "full", "checkpoint.pt")
    for k, v in m_last.state_dict().items():  # checkpoint.pt: the last step's own weights
        torch.testing.assert_close(v, steps[-1][k], msg=k)

    original = train_module.predict_log_probs
    interrupt_in_epoch(2, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(a, b, tmp_path / "cut", cfg)
    monkeypatch.setattr(train_module, "predict_log_probs", original)
    resumed = train(a, b, tmp_path / "cut", cfg, resume=True)
    assert resumed.history[1].val_accuracy == full.history[1].val_accuracy
    for name in ("checkpoint.pt", "best.pt"):
        m_full, _, _ = load_run(tmp_path / "full", name)
        m_cut, _, _ = load_run(tmp_path / "cut", name)
        for (k, v), w in zip(m_full.state_dict().items(), m_cut.state_dict().values(), strict=True):
            torch.testing.assert_close(v, w, msg=f"{name} {k}")
