"""The classifier a user brings: `--model MODULE:FUNCTION` or `--model path/to/file.py:FUNCTION`
names a function that returns an `nn.Module` (importing it runs the user's own code, which is
what they asked for); its weights load as any weights do (convlens.models.weights: tensors only,
nested state dicts and DataParallel's prefix read), its class names come from a file, and its
preprocessing (input size, mean, std) from the command line."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from convlens.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    normalize,
    resize_and_crop,
    to_tensor,
)
from convlens.errors import ConvlensError


def load_user_model(spec: str) -> nn.Module:
    """The module `spec`'s function builds, in eval mode; every way it can fail is one line
    naming --model and what was expected."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise ConvlensError(
            f"--model {spec!r}: expected MODULE:FUNCTION or path/to/file.py:FUNCTION"
        )
    module = _module(where, spec)
    build = getattr(module, name, None)
    if not callable(build):
        raise ConvlensError(f"--model {spec!r}: {where} has no function {name}")
    try:
        model = build()
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
        raise ConvlensError(
            f"--model {spec!r}: {name}() raised {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(model, nn.Module):
        raise ConvlensError(
            f"--model {spec!r}: {name}() returned a {type(model).__name__}, expected an nn.Module"
        )
    return model.eval()


def _module(where: str, spec: str):
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ConvlensError(f"--model {spec!r}: {path}: no such file")
        loader = importlib.util.spec_from_file_location(f"convlens_user_{path.stem}", path)
        module = importlib.util.module_from_spec(loader)
        sys.path.insert(0, str(path.resolve().parent))  # its own imports of files beside it
        try:
            loader.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001
            raise ConvlensError(f"--model {spec!r}: importing {path} raised {exc!r}") from exc
        finally:
            sys.path.remove(str(path.resolve().parent))
        return module
    try:
        return importlib.import_module(where)
    except ImportError as exc:
        raise ConvlensError(f"--model {spec!r}: cannot import {where} ({exc})") from exc


def read_class_names(path: str | Path) -> list[str]:
    """One class name a line (blank lines at the end ignored)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConvlensError(f"--classes {path}: cannot read it as UTF-8 text ({exc})") from exc
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or any(not line.strip() for line in lines):
        raise ConvlensError(f"--classes {path}: expected one class name a line, no blank lines")
    return [line.strip() for line in lines]


def class_count(model: nn.Module, input_size: int) -> int:
    """How many classes the model scores, from one blank image (B x K scores expected)."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    with torch.no_grad():
        out = model(torch.zeros(1, 3, input_size, input_size, device=device))
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ConvlensError(
            f"--model: must return B x K class scores, got {shape} (a model with several "
            "heads: wrap it in a function returning the one to explain)"
        )
    return int(out.shape[1])


def check_class_count(model: nn.Module, names: list[str], input_size: int, source: str) -> None:
    """The model must score as many classes as there are names."""
    k = class_count(model, input_size)
    if k != len(names):
        raise ConvlensError(
            f"--classes {source}: names {len(names)} classes but the model scores {k}"
        )


def user_classifier(spec: str, weights: str | None) -> nn.Module:
    """--model's network in eval mode, with `weights` loaded strictly (its own initial weights
    with none or "random")."""
    from convlens.models.weights import load_weights

    model = load_user_model(spec)
    if weights and weights != "random":
        model = load_weights(model, weights, download=False)
    return model.eval()


def user_class_names(
    model: nn.Module, input_size: int, path: str | Path | None, imagenet_for_1000: bool = False
) -> list[str]:
    """The names of a user model's classes: `path`'s (one a line, their count checked against
    the model's scores), else ImageNet's where `imagenet_for_1000` and it scores 1000 classes,
    else the class ids."""
    if path is not None:
        names = read_class_names(path)
        check_class_count(model, names, input_size, str(path))
        return names
    count = class_count(model, input_size)
    if imagenet_for_1000:
        from convlens.data import imagenet_classes

        imagenet = list(imagenet_classes().names)
        if count == len(imagenet):
            return imagenet
    return [str(k) for k in range(count)]


@dataclass(frozen=True)
class Preprocessing:
    """What a model expects of an image: the side of its square input (the shorter side resized
    to side x 256/224 first, then the centre cropped, as ImageNet models are evaluated) and the
    per-channel mean and std it was trained with."""

    input_size: int = 224
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def __call__(self, img: Image.Image) -> torch.Tensor:
        resize = round(self.input_size * 256 / 224)
        tensor = to_tensor(resize_and_crop(img.convert("RGB"), resize, self.input_size))
        return normalize(tensor, self.mean, self.std)
