"""`torch.load` with `weights_only=True` and one plain sentence for every file it refuses.

torch's own refusal advises retrying with `weights_only=False`, which would run code from the
file; convlens never does that, so it never repeats the advice."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from convlens.errors import ConvlensError


def load_tensors_file(path: str | Path, expected: str = "a PyTorch weights file"):
    """The file's contents (tensors and plain data only), or a ConvlensError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConvlensError(f"{path}: {'not a regular file' if path.exists() else 'not found'}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):  # junk bytes fail to unpickle too
            raise ConvlensError(f"{path}: not {expected}") from exc
        raise ConvlensError(
            f"{path}: holds pickled Python objects besides tensors; convlens loads only tensors "
            "and plain data, so it will not read this file"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - torch raises KeyError, RuntimeError... for junk
        raise ConvlensError(f"{path}: not {expected}") from exc
