"""A run folder's checkpoints: written atomically every epoch (checkpoint.pt, and best.pt when
validation improves), read back with weights_only=True, and turned into a model again."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from convlens import atomic
from convlens.errors import ConvlensError
from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.training.config import TrainConfig, config_dict, config_from_dict
from convlens.models.weights import check_compatible
from convlens.safe_load import check_finite, load_tensors_file

CHECKPOINT = "checkpoint.pt"
BEST = "best.pt"


def save_checkpoint(
    path: Path,
    model,
    optimizer,
    scheduler,
    epoch: int,
    best: float,
    cfg: TrainConfig,
    history: list[dict],
    data_digest: str,
    **extra,
) -> None:
    """`extra`: plain values kept beside the weights (the epochs planned, why training stopped)."""
    state = {k.removeprefix("module."): v for k, v in model.state_dict().items()}
    atomic.torch_save(
        {
            "model": state,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "best_val_accuracy": best,
            "config": json.dumps(config_dict(cfg)),
            "history": json.dumps(history),
            "data_digest": data_digest,
            **extra,
        },
        path,
    )


def read_checkpoint(path: Path) -> dict:
    """A checkpoint's dict, loaded with weights_only=True; one line for any unreadable file."""
    ckpt = load_tensors_file(path, "a checkpoint written by `convlens jigsaw train`")
    if not isinstance(ckpt, dict) or not {"model", "config"} <= set(ckpt):
        raise ConvlensError(f"{path}: not a convlens jigsaw checkpoint (no model and config)")
    return ckpt


def load_run(run: str | Path, which: str = BEST, device="cpu"):
    """(model in eval mode, TrainConfig, checkpoint dict) from a run folder or checkpoint file."""
    path = Path(run)
    if path.is_dir():
        path = path / which
    if not path.is_file():
        raise ConvlensError(f"{path}: no checkpoint (train with `convlens jigsaw train` first)")
    ckpt = read_checkpoint(path)
    if isinstance(ckpt["model"], dict):
        check_finite(ckpt["model"], path)
    with fitting(path):
        cfg = config_from_dict(json.loads(ckpt["config"]))
        model = build_model(cfg.model)
        problems = check_compatible(model, ckpt["model"]) if isinstance(ckpt["model"], dict) else []
        if problems:
            raise ConvlensError(f"{path}: weights do not fit the model: " + "; ".join(problems))
        model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), cfg, ckpt


@contextmanager
def fitting(path: Path):
    """Loading a checkpoint's parts into what its settings build: wrong keys, shapes or
    settings in the file become one line naming it."""
    try:
        yield
    except ConvlensError as exc:
        raise ConvlensError(f"{path}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - whatever torch raises for a file that does not fit
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConvlensError(f"{path}: checkpoint does not fit its own settings ({first})") from exc
