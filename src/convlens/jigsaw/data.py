"""The exam's Problem 3 files: DataShuffled.npz / DataNormal.npz (keys a, b, c, d), also inside
problem3.zip. Images are N x 3 x H x W with values 0-255 (uint8 or float)."""

from __future__ import annotations

import hashlib
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
    groups: np.ndarray | None = None  # e.g. each crop's source photograph (validation split)


@dataclass
class NpzData:
    train: Split | None
    test: Split | None
    source: str
    dtype_found: str
    digest: str = ""  # of the file's arrays: a resumed run or a cached report checks it


def _open_npz(path: Path, member: str) -> tuple[dict[str, np.ndarray], str]:
    """Every array of the npz, read and checked now, so a damaged or unsafe file fails here with
    one message, and the digest of its contents (for resuming and caching)."""
    # An .npz is itself a zip of .npy files: only other zips are containers (problem3.zip).
    if path.suffix != ".npz" and path.is_file() and zipfile.is_zipfile(path):
        where = f"{path}:{member}"
        try:
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if PurePosixPath(n).name == member]
                if not names:
                    raise ConvlensError(f"{path}: zip has no {member}")
                blob = z.read(names[0])
        except (zipfile.BadZipFile, OSError) as exc:
            raise ConvlensError(f"{path}: damaged zip ({exc})") from exc
        return _read_arrays(io.BytesIO(blob), where)
    if path.is_dir():
        path = path / member
    if not path.is_file():
        raise ConvlensError(f"{path}: {'not a regular file' if path.exists() else 'no such file'}")
    with open(path, "rb") as handle:
        return _read_arrays(handle, str(path))


def _read_arrays(handle, where: str) -> tuple[dict[str, np.ndarray], str]:
    try:
        loaded = np.load(handle, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ConvlensError(f"{where}: a single .npy array, expected an .npz with keys a-d")
        with loaded:
            arrays = {k: loaded[k] for k in loaded.files}
    except ConvlensError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):  # object arrays would need unpickling: never
            raise ConvlensError(f"{where}: holds Python objects, expected numeric arrays") from exc
        raise ConvlensError(f"{where}: not a readable .npz file ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ConvlensError(f"{where}: not a readable .npz file ({exc})") from exc
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


def _images(arr: np.ndarray, key: str, source: str, scale: float) -> tuple[np.ndarray, str]:
    if arr.ndim != 4 or arr.shape[1] != 3:
        raise ConvlensError(f"{source} key '{key}': images must be N x 3 x H x W, got {arr.shape}")
    if arr.shape[2] % 2 or arr.shape[3] % 2:
        raise ConvlensError(f"{source} key '{key}': height and width must be even, got {arr.shape}")
    found = str(arr.dtype)
    if arr.dtype == np.uint8:
        return arr, found
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ConvlensError(f"{source} key '{key}': expected numeric pixels, got {arr.dtype}")
    flat = arr.reshape(len(arr), -1)
    if not np.all(np.isfinite(flat)):
        bad = int(np.flatnonzero(~np.isfinite(flat).all(1))[0])
        raise ConvlensError(f"{source} key '{key}': image {bad} has NaN or inf pixels")
    if flat.size and (flat.min() < 0 or flat.max() > 255):
        bad = int(np.flatnonzero((flat < 0).any(1) | (flat > 255).any(1))[0])
        raise ConvlensError(f"{source} key '{key}': image {bad} has pixels outside 0-255")
    if scale != 1:
        found += " in 0-1, scaled to 0-255"
    return np.rint(arr.astype(np.float64) * scale).astype(np.uint8), found


def _pixel_scale(arrays: dict[str, np.ndarray]) -> float:
    """255 when every image array is floating point within 0-1, else 1.

    Exam data are 0-255. Float images that never exceed 1 are 0-1 images: read as 0-255 they
    would be black. Decided over all image arrays together, so train and test agree."""
    images = [arrays[k] for k in ("a", "c") if k in arrays]
    if images and all(np.issubdtype(a.dtype, np.floating) and a.size for a in images):
        finite = [a[np.isfinite(a)] for a in images]
        if all(f.size for f in finite) and max(float(f.max()) for f in finite) <= 1.0:
            if min(float(f.min()) for f in finite) >= 0:
                return 255.0
    return 1.0


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
    data, digest = _open_npz(path, member)
    scale = _pixel_scale(data)
    splits, found = {}, set()
    for img_key, lab_key, split in (("a", "b", "train"), ("c", "d", "test")):
        if img_key not in data:
            splits[split] = None
            continue
        images, dtype = _images(data[img_key], img_key, source, scale)
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
