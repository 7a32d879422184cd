"""Atomic file output: write to a temporary file beside the target, then rename.

A crash mid-write leaves the previous version (or nothing), never half a file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from convlens.errors import ConvlensError

# The files a command reads, while a command runs (None outside one): no output may replace
# any of them, however its path is spelled (`convlens jigsaw restore D.npz --out D.npz`).
_INPUTS: set[tuple[int, int]] | None = None


@contextlib.contextmanager
def inputs_kept() -> Iterator[None]:
    """For the duration of a command: every file marked with `mark_input` is refused as an
    output. Files are compared by device and inode, so links and other spellings of the same
    path are caught."""
    global _INPUTS
    _INPUTS = set()
    try:
        yield
    finally:
        _INPUTS = None


def mark_input(path: str | os.PathLike) -> None:
    """Record `path` as an input of the running command (no-op outside `inputs_kept`)."""
    if _INPUTS is None:
        return
    with contextlib.suppress(OSError):
        st = os.stat(path)
        _INPUTS.add((st.st_dev, st.st_ino))


def _check_not_input(path: Path) -> None:
    if not _INPUTS:
        return
    try:
        st = os.stat(path)
    except OSError:
        return  # a file that does not exist yet is no one's input
    if (st.st_dev, st.st_ino) in _INPUTS:
        raise ConvlensError(
            f"{path}: is an input of this command; writing the output there would destroy it, "
            "so choose another output name"
        )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `path` on success.

    This is where every output file of convlens is written, so every way a write can fail (a
    full disk, a read-only folder, torch's RuntimeError for either) becomes one ConvlensError
    naming `path`; the temporary file, and any folders made for it that stay empty, are
    removed."""
    path = Path(path)
    if path.is_dir():
        raise ConvlensError(f"{path}: is a folder; expected the name of a file to write")
    _check_not_input(path)
    made = missing_parents(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=path.parent,
            prefix=f".{path.name}{TEMP_MARK}",
            suffix=suffix or path.suffix or ".tmp",
        )
    except OSError as exc:  # name the file the user asked for, not our temporary one
        remove_empty(made)
        raise ConvlensError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    done = False
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
        done = True
    except OSError as exc:
        raise ConvlensError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
        if not done:
            remove_empty(made)


def missing_parents(path: Path) -> list[Path]:
    """The folders above `path` that do not exist yet, deepest first."""
    missing, parent = [], path.parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    return missing


def remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return  # not empty, or never made


# Our temporary files: "." + target name + TEMP_MARK + mkstemp's 8 random characters + suffix.
# The mark is what tells them from the user's own dotfiles (".notes.20261207.txt" is theirs).
TEMP_MARK = ".convlens-partial."
_LEFTOVER = re.compile(r"^\..+" + re.escape(TEMP_MARK) + r"[a-z0-9_]{8}(\.[A-Za-z0-9]+)?$")


def remove_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that a killed convlens process left in `folder` (not its
    subfolders); nothing else, whatever its name looks like."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if p.is_file() and _LEFTOVER.match(p.name)]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    with atomic_path(path) as tmp, open(tmp, mode) as handle:
        yield handle


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    from convlens import strict_json

    return write_text(path, strict_json.dumps(obj, indent=2) + "\n")


def torch_save(obj: Any, path: str | os.PathLike) -> Path:
    import torch

    with atomic_path(path) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as exc:  # torch reports a failed write (a full disk) this way
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "write failed"
            raise ConvlensError(f"{path}: cannot write ({reason})") from exc
    return Path(path)


def save_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    import numpy as np

    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return Path(path)
