"""The exam's Problem 3 files: DataShuffled.npz / DataNormal.npz (keys a, b, c, d), also inside
problem3.zip. Images are N x 3 x H x W with values 0-255 (uint8 or float)."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from convlens.errors import ConvlensError
from convlens.jigsaw.permutations import validate_orders

KEYS = {"a": "x_train", "b": "y_train", "c": "x_test", "d": "y_test"}


@dataclass
class Split:
    images: np.ndarray  # N x 3 x H x W uint8
    labels: np.ndarray | None  # N x 4 orders (jigsaw) or N class ids; None if absent
    known: np.ndarray | None = None  # for orders: which rows have a known permutation


@dataclass
class NpzData:
    train: Split | None
    test: Split | None
    source: str
    dtype_found: str


def _open_npz(path: Path, member: str) -> np.lib.npyio.NpzFile:
    # An .npz is itself a zip of .npy files: only other zips are containers (problem3.zip).
    if path.suffix != ".npz" and path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if PurePosixPath(n).name == member]
            if not names:
                raise ConvlensError(f"{path}: zip has no {member}")
            return np.load(io.BytesIO(z.read(names[0])), allow_pickle=False)
    if path.is_dir():
        path = path / member
    if not path.is_file():
        raise ConvlensError(f"{path}: no such file")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ConvlensError(f"{path}: not a readable .npz file ({exc})") from exc


def _images(arr: np.ndarray, key: str, source: str) -> tuple[np.ndarray, str]:
    if arr.ndim != 4 or arr.shape[1] != 3:
        raise ConvlensError(f"{source} key '{key}': images must be N x 3 x H x W, got {arr.shape}")
    if arr.shape[2] % 2 or arr.shape[3] % 2:
        raise ConvlensError(f"{source} key '{key}': height and width must be even, got {arr.shape}")
    found = str(arr.dtype)
    if arr.dtype == np.uint8:
        return arr, found
    if not np.issubdtype(arr.dtype, np.number):
        raise ConvlensError(f"{source} key '{key}': expected numeric pixels, got {arr.dtype}")
    flat = arr.reshape(len(arr), -1)
    if not np.all(np.isfinite(flat)):
        bad = int(np.flatnonzero(~np.isfinite(flat).all(1))[0])
        raise ConvlensError(f"{source} key '{key}': image {bad} has NaN or inf pixels")
    if flat.size and (flat.min() < 0 or flat.max() > 255):
        bad = int(np.flatnonzero((flat < 0).any(1) | (flat > 255).any(1))[0])
        raise ConvlensError(f"{source} key '{key}': image {bad} has pixels outside 0-255")
    return np.rint(arr).astype(np.uint8), found


def _orders(arr: np.ndarray, key: str, n: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated orders and a mask of known rows (rows of -1 or NaN mean 'not kept')."""
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ConvlensError(f"{source} key '{key}': orders must be N x 4, got {arr.shape}")
    if len(arr) != n:
        raise ConvlensError(f"{source} key '{key}': {len(arr)} orders for {n} images")
    f = arr.astype(np.float64)
    unknown = np.isnan(f).all(1) | (f == -1).all(1)
    orders = np.zeros((n, 4), dtype=np.int64)
    try:
        orders[~unknown] = validate_orders(arr[~unknown], name=f"{source} key '{key}'")
    except ValueError as exc:
        # re-index the row number to the original array
        rows = np.flatnonzero(~unknown)
        msg = str(exc)
        import re

        m = re.search(r"row (\d+)", msg)
        if m:
            msg = msg.replace(f"row {m.group(1)}", f"row {rows[int(m.group(1))]}")
        raise ConvlensError(msg) from exc
    orders[unknown] = -1
    return orders, ~unknown


def _class_ids(arr: np.ndarray, key: str, n: int, source: str) -> np.ndarray:
    arr = np.asarray(arr).reshape(-1) if arr.ndim == 2 and 1 in arr.shape else np.asarray(arr)
    if arr.ndim != 1 or len(arr) != n:
        raise ConvlensError(f"{source} key '{key}': expected {n} class ids, got shape {arr.shape}")
    if not np.all(np.equal(np.mod(arr, 1), 0)):
        bad = int(np.flatnonzero(np.mod(arr, 1) != 0)[0])
        raise ConvlensError(f"{source} key '{key}': row {bad} is not an integer class id")
    return arr.astype(np.int64)


def load_npz(
    path: str | os.PathLike, member: str = "DataShuffled.npz", kind: str = "orders"
) -> NpzData:
    """Read a Problem 3 file; kind="orders" (DataShuffled) or "classes" (DataNormal)."""
    path = Path(path).expanduser()
    source = f"{path}" if path.suffix == ".npz" else f"{path}:{member}"
    data = _open_npz(path, member)
    splits, found = {}, set()
    for img_key, lab_key, split in (("a", "b", "train"), ("c", "d", "test")):
        if img_key not in data.files:
            splits[split] = None
            continue
        images, dtype = _images(data[img_key], img_key, source)
        found.add(dtype)
        labels = known = None
        if lab_key in data.files:
            if kind == "orders":
                labels, known = _orders(data[lab_key], lab_key, len(images), source)
            else:
                labels = _class_ids(data[lab_key], lab_key, len(images), source)
        splits[split] = Split(images, labels, known)
    if splits["train"] is None and splits["test"] is None:
        raise ConvlensError(f"{source}: no images (expected keys 'a' and/or 'c')")
    return NpzData(splits["train"], splits["test"], source, ", ".join(sorted(found)))
