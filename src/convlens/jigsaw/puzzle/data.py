"""The exam's Problem 3 files: DataShuffled.npz / DataNormal.npz (keys a, b, c, d), also inside
problem3.zip. Images are N x 3 x H x W with values 0-255 (uint8 or float)."""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from convlens import archive, atomic, npz_archive
from convlens.data.pixel_scale import float_full_scale
from convlens.errors import ConvlensError
from convlens.jigsaw.puzzle.permutations import validate_orders
from convlens.jigsaw.puzzle.seam_solver import seam_costs


@dataclass
class Split:
    images: np.ndarray  # N x 3 x H x W uint8
    labels: np.ndarray | None  # N x 4 orders (jigsaw) or N class ids; None if absent
    known: np.ndarray | None = None  # for orders: which rows have a known permutation
    groups: np.ndarray | None = None  # e.g. each crop's source photograph (validation split)
    _seam_costs: torch.Tensor | None = field(default=None, repr=False, compare=False)

    def seam_costs(self) -> torch.Tensor:
        """N x 24 training-free seam costs of every image (convlens.jigsaw.puzzle.seam_solver),
        computed once per split: every network evaluated on these images reuses them."""
        if self._seam_costs is None:
            self._seam_costs = seam_costs(self.images)
        return self._seam_costs


@dataclass
class NpzData:
    train: Split | None
    test: Split | None
    source: str
    dtype_found: str
    digest: str = ""  # of the file's arrays: a resumed run or a cached report checks it


def _open_npz(path: Path, member: str) -> tuple[dict[str, np.ndarray], str]:
    """Every array of the npz, read and checked now (convlens.archive: sizes before allocation,
    no object arrays), so a damaged or unsafe file fails here with one message, and the digest
    of its contents (for resuming and caching)."""
    # An .npz is itself a zip of .npy files: only other zips are containers (problem3.zip).
    atomic.mark_input(path if not path.is_dir() else path / member)
    if path.suffix != ".npz" and path.is_file() and zipfile.is_zipfile(path):
        with archive.open_archive(path) as z:
            names = [n for n in z.names() if PurePosixPath(n).name == member]
            if not names:
                raise ConvlensError(f"{path}: zip has no {member}")
            arrays = npz_archive.read_npz_member(z, sorted(names, key=len)[0])
        return arrays, content_digest(arrays)
    if path.is_dir():
        path = path / member
    if not path.is_file():
        raise ConvlensError(f"{path}: {'not a regular file' if path.exists() else 'no such file'}")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            magic = handle.read(6)
        if magic == b"\x93NUMPY":
            raise ConvlensError(f"{path}: a single .npy array, expected an .npz with keys a-d")
        raise ConvlensError(f"{path}: not a readable .npz file (not a zip archive)")
    arrays = npz_archive.read_npz(path, str(path))
    return arrays, content_digest(arrays)


def content_digest(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over each array's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{arr.dtype.str}|{arr.shape}|".encode())
        if arr.size:
            h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def _real_numbers(arr: np.ndarray, what: str) -> None:
    """Integers or floats only: strings, objects and complex numbers have no pixel or label
    meaning (numpy would drop an imaginary part with only a warning)."""
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ConvlensError(f"{what}: expected integer or float numbers, got {arr.dtype}")


def _images(arr: np.ndarray, key: str, source: str) -> tuple[np.ndarray, str]:
    """uint8 images; float images in 0-1 are scaled to 0-255 (decided per array, and said in
    the returned description), other numbers must already be 0-255."""
    where = f"{source} key '{key}'"
    if arr.ndim != 4 or arr.shape[1] != 3:
        raise ConvlensError(f"{where}: images must be N x 3 x H x W, got {arr.shape}")
    if arr.shape[2] % 2 or arr.shape[3] % 2:
        raise ConvlensError(f"{where}: height and width must be even, got {arr.shape}")
    found = str(arr.dtype)
    if arr.dtype == np.uint8:
        return arr, found
    _real_numbers(arr, where)
    if arr.size == 0:
        return np.zeros(arr.shape, np.uint8), found
    flat = arr.reshape(len(arr), -1)
    finite = np.isfinite(flat).all(1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ConvlensError(f"{where}: image {bad} has NaN or inf pixels")
    lo, hi = float(flat.min()), float(flat.max())
    scale = 1.0
    if np.issubdtype(arr.dtype, np.floating):
        # Exam data are 0-255; 0-1 images read as 0-255 would be black. Decided per array (a
        # file may hold one of each), with a tolerance for rounding (convlens.data.pixel_scale)
        if float_full_scale(lo, hi, where) == 1.0:
            scale, found = 255.0, f"{found} in 0-1 (key '{key}'), scaled to 0-255"
    elif lo < 0 or hi > 255:
        bad = int(np.flatnonzero((flat < 0).any(1) | (flat > 255).any(1))[0])
        raise ConvlensError(f"{where}: image {bad} has pixels outside 0-255")
    pixels = np.clip(np.rint(arr.astype(np.float64) * scale), 0, 255)
    return pixels.astype(np.uint8), found


def _orders(arr: np.ndarray, key: str, n: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated orders and a mask of known rows (rows of -1 or NaN mean 'not kept')."""
    where = f"{source} key '{key}'"
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ConvlensError(f"{where}: orders must be N x 4, got {arr.shape}")
    if len(arr) != n:
        raise ConvlensError(f"{where}: {len(arr)} orders for {n} images")
    _real_numbers(arr, where)
    f = arr.astype(np.float64)
    unknown = np.isnan(f).all(1) | (f == -1).all(1)
    orders = np.zeros((n, 4), dtype=np.int64)
    known_rows = np.flatnonzero(~unknown)
    try:
        orders[~unknown] = validate_orders(arr[~unknown], name=where)
    except ValueError as exc:
        # name the row of the file, not of the known rows
        msg = str(exc)
        m = re.search(r"row (\d+)", msg)
        if m:
            msg = msg.replace(f"row {m.group(1)}", f"row {known_rows[int(m.group(1))]}")
        raise ConvlensError(msg) from exc
    orders[unknown] = -1
    return orders, ~unknown


# Class ids: any integer a person would use as a label, stored exactly in int64 and float64.
_MAX_CLASS_ID = 2**31 - 1


def _class_ids(arr: np.ndarray, key: str, n: int, source: str) -> np.ndarray:
    where = f"{source} key '{key}'"
    arr = np.asarray(arr).reshape(-1) if arr.ndim == 2 and 1 in arr.shape else np.asarray(arr)
    if arr.ndim != 1 or len(arr) != n:
        raise ConvlensError(f"{where}: expected {n} class ids, got shape {arr.shape}")
    _real_numbers(arr, where)
    f = arr.astype(np.float64)
    bad = ~np.isfinite(f) | (np.mod(f, 1) != 0) | (np.abs(f) > _MAX_CLASS_ID)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ConvlensError(
            f"{where}: row {row} holds {arr[row]!r}, not an integer class id "
            f"(expected whole numbers within +-{_MAX_CLASS_ID})"
        )
    return arr.astype(np.int64)


def load_npz(
    path: str | os.PathLike, member: str = "DataShuffled.npz", kind: str = "orders"
) -> NpzData:
    """Read a Problem 3 file; kind="orders" (DataShuffled) or "classes" (DataNormal)."""
    path = Path(path).expanduser()
    source = f"{path}" if path.suffix == ".npz" else f"{path}:{member}"
    data, digest = _open_npz(path, member)
    splits, found = {}, set()
    for img_key, lab_key, split in (("a", "b", "train"), ("c", "d", "test")):
        if img_key not in data:
            splits[split] = None
            continue
        images, dtype = _images(data[img_key], img_key, source)
        found.add(dtype)
        labels = known = None
        if lab_key in data:
            if kind == "orders":
                labels, known = _orders(data[lab_key], lab_key, len(images), source)
            else:
                labels = _class_ids(data[lab_key], lab_key, len(images), source)
        splits[split] = Split(images, labels, known)
    if splits["train"] is None and splits["test"] is None:
        keys = ", ".join(sorted(data)) or "none"
        raise ConvlensError(f"{source}: no images (expected keys 'a' and/or 'c', found {keys})")
    return NpzData(splits["train"], splits["test"], source, ", ".join(sorted(found)), digest)
