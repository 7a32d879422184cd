"""Killing a training run at a chosen point, for resume tests."""

from __future__ import annotations

from convlens.jigsaw.training import train as train_module


def interrupt_in_epoch(epoch: int, monkeypatch) -> None:
    """Make the run raise KeyboardInterrupt when epoch `epoch` (1-based) ends, before its
    checkpoint is written, as Ctrl-C at that moment would."""
    calls = {"n": 0}
    original = train_module.predict_log_probs

    def validation(*args, **kw):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise KeyboardInterrupt
        return original(*args, **kw)

    monkeypatch.setattr(train_module, "predict_log_probs", validation)
