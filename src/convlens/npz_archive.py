"""Reading .npz files (zips of .npy members) through convlens.archive's checks: every array's
header read and its shape checked against its member's size before anything is allocated, no
object arrays, and an .npz inside another zip (problem3.zip) streamed or spooled, never read
whole."""

from __future__ import annotations

import os
import tempfile
import zipfile
from typing import IO

import numpy as np

from convlens.archive import Archive, limit_text, size_text
from convlens.errors import ConvlensError


def read_npz(
    source: IO[bytes] | str | os.PathLike, where: str, size: int | None = None
) -> dict[str, np.ndarray]:
    """Every array of an .npz (a path, or a seekable stream of `size` bytes), each member's
    header checked against its size (and the total against the limit) before any array is
    allocated; object arrays are refused."""
    archive = _NpzArchive(source, where, size)  # a path or a stream
    arrays = {}
    with archive:
        plans = [archive.plan(name) for name in archive.names()]
        total = sum(nbytes for _, _, nbytes in plans)
        if total > archive.limit:
            raise ConvlensError(
                f"{where}: its arrays take {size_text(total)}, more than convlens reads from one "
                f"archive, {limit_text(archive.limit)}"
            )
        for name, key, _ in plans:
            with archive.open(name) as member:
                try:
                    arrays[key] = np.lib.format.read_array(member, allow_pickle=False)
                except ValueError as exc:
                    raise ConvlensError(
                        f"{where} key '{key}': not a readable array ({exc})"
                    ) from exc
    return arrays


class _NpzArchive(Archive):
    """An .npz (itself a zip), read from a path or from a stream such as a member of a zip."""

    def __init__(self, source, where: str, size: int | None = None):
        super().__init__(where, ".npz", source=source, size=size)

    def _damaged(self, what: str) -> str:
        return "not a readable .npz file"

    _unreadable = _damaged

    def where(self, name: str) -> str:
        return f"{self.path} member {name}"

    def plan(self, name: str) -> tuple[str, str, int]:
        """(member, key, bytes its array takes), from the .npy header alone."""
        info = self.check(name)
        key = name[:-4] if name.endswith(".npy") else name
        with self.open(name) as member:
            try:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(member)
                header = member.tell()
            except ValueError as exc:
                raise ConvlensError(f"{self.path} key '{key}': not a .npy array ({exc})") from exc
        if dtype.hasobject:
            raise ConvlensError(f"{self.path} key '{key}': holds Python objects, expected numbers")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if header + nbytes != info.file_size:
            raise ConvlensError(
                f"{self.path} key '{key}': its header declares a {' x '.join(map(str, shape))} "
                f"{dtype} array ({size_text(nbytes)}) but the member holds "
                f"{size_text(info.file_size - header)}"
            )
        return name, key, nbytes


def read_npz_member(archive: Archive, name: str) -> dict[str, np.ndarray]:
    """The arrays of an .npz stored inside a zip (problem3.zip's DataShuffled.npz).

    A stored member is read in place. A compressed one is first unpacked to a temporary file:
    reading an .npz seeks back and forth, and each backward seek in a compressed stream starts
    its decompression again from the beginning."""
    info = archive.check(name)
    where = archive.where(name)
    if info.compress_type != zipfile.ZIP_STORED:
        try:
            spool = tempfile.TemporaryFile()
        except OSError:
            spool = None
        if spool is not None:
            with spool:
                if _copy(archive, name, spool):
                    return read_npz(spool, where, info.file_size)
    with archive.open(name) as stream:
        return read_npz(stream, where, info.file_size)


def _copy(archive: Archive, name: str, spool: IO[bytes]) -> bool:
    """Unpack the member into `spool`; False when the copy cannot be written (a full disk)."""
    with archive.open(name) as stream:
        while chunk := stream.read(1 << 20):
            try:
                spool.write(chunk)
            except OSError:
                return False
    try:
        spool.flush()
    except OSError:
        return False
    return True
