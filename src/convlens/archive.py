"""The one way convlens reads zip archives (problem2.zip, problem3.zip, and .npz files, which are
zips of .npy members): nothing is trusted before it is checked.

* Sizes: a member's declared size is checked against a stated limit and against the bytes it
  occupies on disk (deflate cannot expand more than about 1,032 to 1), and an array's shape
  against its member's size, all *before* anything is allocated; members are then streamed,
  never read whole and copied.
* Names: decoded as the zip specification says (UTF-8 when the archive flags it, else the
  Info-ZIP Unicode Path field when present, else cp437 unless the bytes are UTF-8), so a name
  matches what `unzip` shows.
* Every failure (damage, encryption, an unknown compression method, a lie about sizes) is one
  ConvlensError naming the archive, the member and what is wrong.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from convlens import atomic
from convlens.errors import ConvlensError

# Deflate's best case is 258 bytes from about 2 bits: 1,032 to 1. bzip2 and LZMA can do more,
# so their members are held to the size limit only.
_DEFLATE_MAX_RATIO = 1100
_READABLE = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
# Image data compress a few-fold at most; a large member that unpacks more than this is a bomb.
_BOMB_RATIO = 200
_BOMB_MIN_BYTES = 64 << 20
_UNICODE_PATH_FIELD = 0x7075  # Info-ZIP's Unicode Path extra field (APPNOTE 4.6.9)
_UTF8_FLAG = 0x800


def max_bytes() -> int:
    """How much convlens reads out of one archive: half of this machine's memory, or
    $CONVLENS_MAX_BYTES."""
    env = os.environ.get("CONVLENS_MAX_BYTES")
    if env:
        try:
            return max(1, int(float(env)))
        except ValueError as exc:
            raise ConvlensError(f"CONVLENS_MAX_BYTES={env!r}: expected a number of bytes") from exc
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):  # not POSIX: a fixed 8 GiB
        return 8 << 30


def size_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n}"


def limit_text(limit: int) -> str:
    source = "CONVLENS_MAX_BYTES" if os.environ.get("CONVLENS_MAX_BYTES") else "half the memory"
    return f"{size_text(limit)} ({source})"


def display_name(info: zipfile.ZipInfo) -> str:
    """The member's name as a user sees it after unzipping."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    raw = info.orig_filename.encode("cp437")
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body = extra[4 : 4 + size]
        # version 1, the CRC-32 of the raw name (so a renamed entry's stale field is ignored)
        if kind == _UNICODE_PATH_FIELD and len(body) >= 5 and body[0] == 1:
            if struct.unpack("<I", body[1:5])[0] == zlib.crc32(raw):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    break
        extra = extra[4 + size :]
    try:
        return raw.decode("utf-8")  # what Linux and macOS tools show for such bytes
    except UnicodeDecodeError:
        return info.filename  # cp437, as the specification says


class Archive:
    """A zip opened for reading, with members looked up by the names a user sees."""

    def __init__(self, path: str | os.PathLike, what: str = "zip", *, source=None, size=None):
        """`source`: a seekable stream of `size` bytes to read instead of the file at `path`
        (which then only names it in messages)."""
        self.path = Path(path)
        self.limit = max_bytes()
        try:
            self.zip = zipfile.ZipFile(self.path if source is None else source)
            infos = self.zip.infolist()
            self.size_on_disk = size if size is not None else stream_size(source or self.path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
            raise ConvlensError(f"{self.path}: {self._damaged(what)} ({exc})") from exc
        except (ValueError, NotImplementedError, RuntimeError) as exc:
            raise ConvlensError(f"{self.path}: {self._unreadable(what)} ({exc})") from exc
        # Some Windows tools write `\` between folders; unzip reads it as `/`, and so do we.
        self.members = {
            display_name(i).replace("\\", "/").rstrip("/"): i
            for i in infos
            if not i.is_dir() and not display_name(i).endswith("\\")
        }

    def _damaged(self, what: str) -> str:
        return f"damaged {what}"

    def _unreadable(self, what: str) -> str:
        return f"unreadable {what}"

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self.members)

    def where(self, name: str) -> str:
        return f"{self.path}:{name}"

    def check(self, name: str, limit: int | None = None) -> zipfile.ZipInfo:
        """The member's entry, after every check that needs no decompression."""
        info = self.members.get(name)
        if info is None:
            raise ConvlensError(f"{self.path}: zip has no {name}")
        where = self.where(name)
        if info.flag_bits & 0x1:
            raise ConvlensError(f"{where}: encrypted; unzip it with its password first")
        if info.compress_type not in _READABLE:
            raise ConvlensError(
                f"{where}: compression method {info.compress_type} is not one convlens reads "
                f"({', '.join(_READABLE.values())}); re-zip it with deflate"
            )
        limit = self.limit if limit is None else min(limit, self.limit)
        if info.file_size > limit:
            raise ConvlensError(
                f"{where}: declares {size_text(info.file_size)} unpacked, more than convlens reads "
                f"from one archive, {limit_text(limit)}"
            )
        if info.header_offset + info.compress_size > self.size_on_disk:
            raise ConvlensError(
                f"{where}: declares {size_text(info.compress_size)} packed, past the end of "
                "the file"
            )
        stored = info.compress_type == zipfile.ZIP_STORED
        inflated_too_far = info.compress_type == zipfile.ZIP_DEFLATED and (
            info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 1024
        )
        if (stored and info.file_size != info.compress_size) or inflated_too_far:
            raise ConvlensError(
                f"{where}: declares {size_text(info.file_size)} unpacked from only "
                f"{size_text(info.compress_size)} on disk, which its compression cannot produce"
            )
        ratio = info.file_size / max(1, info.compress_size)
        if not stored and info.file_size > _BOMB_MIN_BYTES and ratio > _BOMB_RATIO:
            raise ConvlensError(
                f"{where}: unpacks {ratio:.0f}-fold ({size_text(info.compress_size)} to "
                f"{size_text(info.file_size)}); photographs never compress that far, so convlens "
                "treats it as a zip bomb (if it is genuine, unzip it and pass the folder)"
            )
        return info

    @contextmanager
    def open(self, name: str, limit: int | None = None) -> Iterator[IO[bytes]]:
        """The member as a stream (its declared size checked first); read failures become one
        ConvlensError naming the member."""
        info = self.check(name, limit)
        try:
            with self.zip.open(info) as stream:
                yield stream
        except ConvlensError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise ConvlensError(f"{self.where(name)}: damaged ({exc})") from exc
        except (RuntimeError, NotImplementedError, ValueError) as exc:
            raise ConvlensError(f"{self.where(name)}: unreadable ({exc})") from exc

    def read(self, name: str, limit: int) -> bytes:
        """A small member whole (a text file, one image), refused above `limit` bytes."""
        with self.open(name, limit) as stream:
            return stream.read()


def open_archive(path: str | os.PathLike, what: str = "zip") -> Archive:
    atomic.mark_input(path)
    return Archive(path, what)


def stream_size(source) -> int:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).stat().st_size
    here = source.tell()
    end = source.seek(0, os.SEEK_END)
    source.seek(here)
    return end
