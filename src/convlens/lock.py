"""One process at a time per output folder (a training run, the report's cache).

Two `convlens jigsaw train --out SAME` at once would overwrite each other's checkpoints, and the
clean-up of killed saves could delete the other's temporary file. The lock is an advisory
`flock` on a small file in the folder: the kernel releases it when the holder exits, however it
exits, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from convlens.errors import ConvlensError

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not guarded there
    fcntl = None

LOCK_NAME = ".convlens.lock"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold the folder (which must exist) for the block; a second holder gets one line naming
    the process that has it."""
    folder = Path(folder)
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConvlensError(f"{folder}: cannot write ({exc.strerror or exc})") from exc
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                raise ConvlensError(
                    f"{folder}: in use by another convlens process (pid {holder}); wait for it "
                    "to finish or choose another folder"
                ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield folder
    finally:
        os.close(fd)  # closing the descriptor releases the flock
