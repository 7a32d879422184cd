"""Loading weights: a file, or a known torchvision checkpoint by name.

Everything is loaded with `weights_only=True` (or safetensors), never by unpickling objects.
"""

from __future__ import annotations

import os
import urllib.error
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from convlens.atomic import missing_parents, remove_empty
from convlens.errors import ConvlensError
from convlens.safe_load import check_finite, load_tensors_file

_BASE_URL = "https://download.pytorch.org/models/"
# name -> torchvision file; the part after the dash is the sha256 prefix torch.hub checks.
KNOWN_CHECKPOINTS = {
    "vgg11": "vgg11-8a719046.pth",
    "vgg13": "vgg13-19584684.pth",
    "vgg16": "vgg16-397923af.pth",
    "vgg19": "vgg19-dcbb9e9d.pth",
    "vgg11_bn": "vgg11_bn-6002323d.pth",
    "vgg13_bn": "vgg13_bn-abd245e5.pth",
    "vgg16_bn": "vgg16_bn-6c64b313.pth",
    "vgg19_bn": "vgg19_bn-c79401a0.pth",
}


def checkpoint_dir() -> Path:
    """$TORCH_HOME/hub/checkpoints (torch.hub's own cache folder)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def resolve_checkpoint(source: str | os.PathLike, download: bool = True) -> Path:
    """An existing file, or a known checkpoint name found in (or fetched into) the cache."""
    path = Path(source).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        raise ConvlensError(
            f"{path}: is a folder; expected a weights file (.pth, .pt, .safetensors)"
        )
    name = str(source)
    if name not in KNOWN_CHECKPOINTS and name.removesuffix(".pth") not in {
        f.removesuffix(".pth") for f in KNOWN_CHECKPOINTS.values()
    }:
        raise ConvlensError(
            f"weights {name!r}: no such file, and not a known checkpoint "
            f"({', '.join(KNOWN_CHECKPOINTS)})"
        )
    filename = KNOWN_CHECKPOINTS.get(name, name if name.endswith(".pth") else name + ".pth")
    target = checkpoint_dir() / filename
    if target.is_file():
        return target
    url = _BASE_URL + filename
    where = f"put {filename} (from {url}) in {target.parent}/"
    if not download or os.environ.get("CONVLENS_OFFLINE"):
        raise ConvlensError(f"weights {filename} not found: {where}")
    made = missing_parents(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    hash_prefix = filename.removesuffix(".pth").rsplit("-", 1)[-1]
    try:
        torch.hub.download_url_to_file(url, str(target), hash_prefix=hash_prefix, progress=True)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        remove_empty(made)  # a failed download leaves no empty cache folders behind
        raise ConvlensError(
            f"weights {filename} not found and could not be downloaded "
            f"({exc.__class__.__name__}): {where}"
        ) from exc
    except RuntimeError as exc:  # hash mismatch
        remove_empty(made)
        raise ConvlensError(f"downloaded {filename} is corrupt ({exc}): {where}") from exc
    return target


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors from a .pth/.pt (weights_only) or .safetensors file.

    Accepts a bare state dict, or one wrapped under a common key (NESTED: our own training
    checkpoints' "model", Lightning's "state_dict", the tutorials' "model_state_dict"...), and
    strips the "module." prefix that (Distributed)DataParallel adds. The format is read from
    the content, so a .safetensors file named .pth reads too; a TorchScript archive is refused
    saying what it is.
    """
    path = Path(path)
    kind = file_kind(path)
    if kind == "torchscript":
        raise ConvlensError(
            f"{path}: a TorchScript archive (torch.jit.save), not a state dict; save the "
            "weights with torch.save(model.state_dict(), path)"
        )
    try:
        if kind == "safetensors" or path.suffix == ".safetensors":
            try:
                from safetensors.torch import load_file
            except ImportError as exc:
                raise ConvlensError(
                    f"{path}: reading .safetensors needs `pip install safetensors`"
                ) from exc
            state = load_file(str(path))
        else:
            state = load_tensors_file(path, "a PyTorch weights file (.pth, .pt)")
    except ConvlensError:
        raise
    except Exception as exc:  # safetensors raises its own types for a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConvlensError(f"{path}: cannot read weights ({first})") from exc
    state = _unwrapped(state, path)
    check_finite(state, path)
    return {k.removeprefix("module."): v for k, v in state.items()}


# where checkpoints written by common code keep the model's tensors
NESTED = ("state_dict", "model", "model_state_dict", "net", "network", "weights", "params")


def file_kind(path: Path) -> str:
    """ "safetensors", "torchscript" or "torch" (a torch.save file or anything else), from the
    first bytes: a safetensors file starts with its header's length and a JSON object; a
    TorchScript archive is a zip holding code/ and constants.pkl."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(9)
    except OSError:
        return "torch"  # load_tensors_file names what is wrong with the path
    if len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100 << 20:
        return "safetensors"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        if any(n.endswith("constants.pkl") for n in names) and any("/code/" in n for n in names):
            return "torchscript"
    return "torch"


def _unwrapped(state, path: Path) -> dict:
    """The state dict itself: at the top, or under one of NESTED; otherwise one line saying
    what the file holds and where the tensors were looked for."""
    for key in NESTED:
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            inner = state[key]
            if inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return inner
    if (
        isinstance(state, Mapping)
        and state
        and all(isinstance(v, torch.Tensor) for v in state.values())
    ):
        return state
    if isinstance(state, Mapping):
        keys = ", ".join(map(str, list(state)[:6])) + (" ..." if len(state) > 6 else "")
        found = f"a dict with keys {keys}" if state else "an empty dict"
    else:
        found = f"a {type(state).__name__}"
    raise ConvlensError(
        f"{path}: holds {found}, not a state dict of tensors; expected the tensors at the top "
        f"level or under one of {', '.join(NESTED)}"
    )


def check_compatible(
    model: nn.Module, state: Mapping[str, torch.Tensor], limit: int = 5
) -> list[str]:
    """Human-readable mismatches between a model and a state dict (empty when they fit)."""
    own = model.state_dict()
    problems = []
    for k in own:
        if k not in state:
            problems.append(f"missing {k} {tuple(own[k].shape)}")
        elif tuple(state[k].shape) != tuple(own[k].shape):
            problems.append(
                f"{k}: file has {tuple(state[k].shape)}, model expects {tuple(own[k].shape)}"
            )
        elif own[k].is_floating_point() and not _real_floats(state[k]):
            # int8 weights without their scales (quantised), or tensors without storage,
            # would be cast to float silently and give confident nonsense
            storage = " without storage" if state[k].is_meta else ""
            problems.append(
                f"{k}: file has {state[k].dtype} data{storage}, model expects floating-point "
                "weights"
            )
    problems += [f"unexpected {k}" for k in state if k not in own]
    return problems[:limit] + (
        [f"... {len(problems) - limit} more"] if len(problems) > limit else []
    )


def _real_floats(t: torch.Tensor) -> bool:
    return t.is_floating_point() and not t.is_meta and not t.is_quantized


def load_weights(model: nn.Module, source: str | os.PathLike, download: bool = True) -> nn.Module:
    """Load `source` (a file, or a known name such as "vgg16") into `model`, strictly."""
    path = resolve_checkpoint(source, download=download)
    state = load_state_dict(path)
    problems = check_compatible(model, state)
    if problems:
        raise ConvlensError(f"{path}: weights do not fit the model: " + "; ".join(problems))
    model.load_state_dict(state, strict=True)
    return model
