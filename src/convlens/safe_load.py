"""`torch.load` with `weights_only=True` and one plain sentence for every file it refuses.

torch's own refusal advises retrying with `weights_only=False`, which would run code from the
file; convlens never does that, so it never repeats the advice."""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path

import torch

from convlens.errors import ConvlensError


def load_tensors_file(path: str | Path, expected: str = "a PyTorch weights file"):
    """The file's contents (tensors and plain data only), or a ConvlensError naming the file."""
    path = Path(path)
    if path.is_dir():
        raise ConvlensError(f"{path}: is a folder; expected {expected}")
    if not path.is_file():
        raise ConvlensError(f"{path}: {'not a regular file' if path.exists() else 'not found'}")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc) or _plain_pickle(path):
            raise ConvlensError(
                f"{path}: holds pickled Python objects besides tensors; convlens loads only "
                "tensors and plain data, so it will not read this file"
            ) from exc
        raise ConvlensError(f"{path}: not {expected}") from exc  # junk bytes fail to unpickle
    except Exception as exc:  # noqa: BLE001 - torch raises KeyError, RuntimeError... for junk
        raise ConvlensError(f"{path}: not {expected}") from exc


def _plain_pickle(path: Path) -> bool:
    """A file written by pickle.dump rather than torch.save (a zip): it starts with the PROTO
    opcode and ends with STOP."""
    if zipfile.is_zipfile(path):
        return False
    with open(path, "rb") as handle:
        head = handle.read(2)
        handle.seek(-1, 2)
        tail = handle.read(1)
    return len(head) == 2 and head[0] == 0x80 and head[1] <= 5 and tail == b"."


def check_finite(state, where: str | Path) -> None:
    """Refuse weights holding NaN or infinity (a diverged training run): a model with them
    ranks NaN scores as its top prediction and every number downstream is meaningless."""
    for key, tensor in state.items():
        if torch.is_tensor(tensor) and tensor.is_meta:
            raise ConvlensError(
                f"{where}: tensor {key} has no data (a meta tensor: the model was saved before "
                "its weights were made or loaded)"
            )
        if torch.is_tensor(tensor) and tensor.is_floating_point():
            if not bool(torch.isfinite(tensor).all()):
                raise ConvlensError(
                    f"{where}: tensor {key} holds NaN or infinite values; convlens does not "
                    "use non-finite weights (was the training diverging?)"
                )
