"""convlens.jigsaw.training.run_folder: checkpoints, and a resumed run equal to an unbroken one."""

import dataclasses

import pytest
import torch
from interrupt import interrupt_in_epoch

from convlens.errors import ConvlensError
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.training import train as train_module
from convlens.jigsaw.training.checkpoint import load_run
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train

TINY = model_config(width=0.125, hidden=32, input_size=32)


def _cfg(epochs=2, **kw):
    return TrainConfig(epochs=epochs, batch_size=32, precision="fp32", model=TINY, **kw)


def test_checkpoints_and_exact_resume(photo_arrays, tmp_path, monkeypatch):
    a, b = photo_arrays["a"], photo_arrays["b"]
    full = train(a, b, tmp_path / "full", _cfg(3))
    assert len(full.history) == 3
    assert (tmp_path / "full" / "best.pt").exists() and (
        tmp_path / "full" / "checkpoint.pt"
    ).exists()

    original = train_module.predict_log_probs
    interrupt_in_epoch(2, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(a, b, tmp_path / "cut", _cfg(3))
    monkeypatch.setattr(train_module, "predict_log_probs", original)
    with pytest.raises(ConvlensError, match="pass --resume"):
        train(a, b, tmp_path / "cut", _cfg(3))
    resumed = train(a, b, tmp_path / "cut", _cfg(3), resume=True)
    assert [h.epoch for h in resumed.history] == [1, 2, 3]
    m_full, _, _ = load_run(tmp_path / "full", "checkpoint.pt")
    m_cut, _, _ = load_run(tmp_path / "cut", "checkpoint.pt")
    for (k, v), w in zip(m_full.state_dict().items(), m_cut.state_dict().values(), strict=True):
        torch.testing.assert_close(v, w, msg=k)
    with pytest.raises(ConvlensError, match=r"different settings than the run \(epochs: 3 -> 4\)"):
        train(a, b, tmp_path / "cut", _cfg(4), resume=True)
    wider = dataclasses.replace(_cfg(3), model=dataclasses.replace(TINY, width=0.25))
    with pytest.raises(ConvlensError, match=r"\(model.width: 0.125 -> 0.25\)"):
        train(a, b, tmp_path / "cut", wider, resume=True)


def test_a_failed_first_epoch_removes_only_what_it_made(photo_arrays, tmp_path, monkeypatch):
    """Run A is stopped before its first checkpoint in pd/new/r1, a folder chain it made; while it
    ran, the user put notes in pd/new and run B its own folder there. A removes r1, its files and
    nothing else: new/ keeps the user's notes and B's folder."""
    new = tmp_path / "pd" / "new"

    def user_and_b_arrive_then_ctrl_c(*args, **kw):  # as epoch 1 ends, before its checkpoint
        (new / "notes.txt").write_text("mine")
        (new / "r2").mkdir(exist_ok=True)
        (new / "r2" / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "predict_log_probs", user_and_b_arrive_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        train(photo_arrays["a"], photo_arrays["b"], new / "r1", _cfg(epochs=1))
    assert not (new / "r1").exists()
    assert (new / "notes.txt").read_text() == "mine"
    assert (new / "r2" / "config.json").exists()


def test_a_failed_first_epoch_in_a_new_folder_leaves_nothing(photo_arrays, tmp_path, monkeypatch):
    interrupt_in_epoch(1, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(photo_arrays["a"], photo_arrays["b"], tmp_path / "a" / "b" / "run", _cfg(epochs=1))
    assert list(tmp_path.iterdir()) == []
