"""Cheap content fingerprints of input files and folders, for caches that must notice when the
data behind a path changes (a replaced DataShuffled.npz inside the same problem3.zip)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

SAMPLE = 1 << 16  # bytes read at the start, middle and end of a large file


def _file(h, path: Path) -> None:
    st = path.stat()
    h.update(f"{st.st_size}|{st.st_mtime_ns}|".encode())
    with open(path, "rb") as f:
        if st.st_size <= 3 * SAMPLE:
            h.update(f.read())
            return
        for offset in (0, st.st_size // 2, st.st_size - SAMPLE):
            f.seek(offset)
            h.update(f.read(SAMPLE))


def fingerprint(path: str | os.PathLike | None) -> str | None:
    """sha256 over size, mtime and sampled bytes of a file, or of every regular file under a
    folder (with its relative name); None for None."""
    if path is None:
        return None
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(path)).encode() + b"\0")
            _file(h, f)
    elif path.is_file():
        _file(h, path)
    else:
        h.update(b"missing")
    return h.hexdigest()
