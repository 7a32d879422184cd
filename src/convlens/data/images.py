"""Reading images from files or zip members, with errors that name the file."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from convlens import atomic
from convlens.data.pixel_scale import float_full_scale
from convlens.errors import ConvlensError

# Pillow's own warning threshold (about 9459 x 9459): far above any photograph a classifier
# needs, and refused before decoding, so a decompression bomb never allocates its pixels.
MAX_PIXELS = 89_478_485
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm"}


@dataclass(frozen=True)
class ImageItem:
    """One image: a display name, how to get its bytes, and its class id if known."""

    name: str
    read_bytes: Callable[[], bytes]
    label: int | None = None


def read_image(item: ImageItem | str | os.PathLike) -> Image.Image:
    """Decode an image to 8-bit RGB: grayscale, 16-bit, float, CMYK, palette and alpha images
    are converted, 16-bit and float ones rescaled rather than clipped."""
    if not isinstance(item, ImageItem):
        item = file_item(item)
    with _opened(item) as img:
        img.load()
        # As every photo viewer shows it: a camera held upright writes its pixels sideways and
        # says so in the EXIF orientation tag.
        return _to_rgb(ImageOps.exif_transpose(img), item.name)


def check_image_header(item: ImageItem) -> None:
    """Read the header and look for the format's end marker, without decoding: an unreadable,
    truncated or oversized image is refused before any work."""
    with _opened(item, check_end=True):
        pass


def _truncated(data: bytes, fmt: str | None) -> bool:
    """Might the file be cut off? JPEG and PNG files end with a marker (EOI, IEND) that a cut-off
    download lacks; JPEG stuffs every 0xFF in its compressed data, so FF D9 is a real marker."""
    if fmt == "JPEG":
        return data.rfind(b"\xff\xd9") < len(data) - 4096
    if fmt == "PNG":
        return b"IEND" not in data[-4096:]
    return False


@contextlib.contextmanager
def _opened(item: ImageItem, check_end: bool = False) -> Iterator[Image.Image]:
    """The image, opened lazily (header only) and within the pixel limit; every failure, in
    here or in the caller's decoding, becomes one ConvlensError naming the item."""
    try:
        data = item.read_bytes()
    except ConvlensError:
        raise
    except FileNotFoundError as exc:
        raise ConvlensError(f"{item.name}: file not found") from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise ConvlensError(f"{item.name}: cannot read ({exc})") from exc
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise _too_large(item.name, w, h)
            if check_end and _truncated(data, img.format):
                # Some cameras append data after the end marker: only a decode can tell.
                try:
                    img.load()
                except (OSError, SyntaxError, ValueError) as exc:
                    raise ConvlensError(
                        f"{item.name}: truncated or damaged {img.format} file ({exc})"
                    ) from exc
            yield img
    except ConvlensError:
        raise
    except Image.DecompressionBombError as exc:
        raise ConvlensError(f"{item.name}: image too large ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ConvlensError(f"{item.name}: not a readable image (unknown format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ConvlensError(f"{item.name}: not a readable image ({exc})") from exc


def _too_large(name: str, w: int, h: int) -> ConvlensError:
    return ConvlensError(
        f"{name}: {w} x {h} = {w * h:,} pixels, above the limit of {MAX_PIXELS:,}; "
        "downscale the image first"
    )


def _to_rgb(img: Image.Image, name: str) -> Image.Image:
    if img.mode in ("P", "LA", "RGBA", "PA"):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        return background
    if img.mode.startswith("I") or img.mode == "F":
        # Pillow's convert("RGB") clips these to 255; rescale their own range instead.
        return Image.fromarray(_gray_to_uint8(np.asarray(img), img.mode, name), "L").convert("RGB")
    return img.convert("RGB")


def _gray_to_uint8(arr: np.ndarray, mode: str, name: str) -> np.ndarray:
    """16-bit images span 0-65535; 32-bit integer ones 0-255 or 0-65535; float ones 0-1 or
    0-255. Anything else has no agreed scale, so it is refused rather than guessed."""
    arr = arr.astype(np.float64)
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if not np.isfinite(arr).all():
        raise ConvlensError(f"{name}: image has NaN or infinite pixels")
    if mode.startswith("I;16"):
        full = 65535.0
    elif mode == "F":
        full = float_full_scale(lo, hi, name)
    elif lo >= 0 and hi <= 255:
        full = 255.0
    elif mode != "F" and lo >= 0 and hi <= 65535:
        full = 65535.0
    else:
        raise ConvlensError(
            f"{name}: {mode} pixels span {lo:g}..{hi:g}; expected 0-255 or 0-65535 (integer)"
        )
    return np.clip(np.rint(arr * (255.0 / full)), 0, 255).astype(np.uint8)


def file_item(path: str | os.PathLike, label: int | None = None) -> ImageItem:
    path = Path(path)
    return ImageItem(str(path), lambda: read_regular_file(path), label)


def read_regular_file(path: Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (by default an image's), checked
    before anything is read, as a zip member's size is; a FIFO or device would block or never
    end, so it is refused."""
    atomic.mark_input(path)
    if not path.is_file():
        if path.exists():
            raise ConvlensError(f"{path}: not a regular file")
        raise ConvlensError(f"{path}: file not found")
    limit = MAX_IMAGE_FILE_BYTES if limit is None else limit
    size = path.stat().st_size
    if size > limit:
        raise ConvlensError(
            f"{path}: {size / 2**20:,.0f} MiB, more than convlens reads from one such file "
            f"({limit / 2**20:,.0f} MiB)"
        )
    return path.read_bytes()


# One image file: far above any photograph (a 9,459 x 9,459 RGB PNG is about 270 MB raw).
MAX_IMAGE_FILE_BYTES = 512 << 20


def zip_item(path: str | os.PathLike, member: str, label: int | None = None) -> ImageItem:
    """A member of the zip at `path` (by the name a user sees), re-opened on each read so the
    item stays usable after the caller's archive is closed."""
    from convlens import archive

    def read() -> bytes:
        with archive.open_archive(path) as z:
            return z.read(member, MAX_IMAGE_FILE_BYTES)

    return ImageItem(f"{path}:{member}", read, label)


def is_metadata_file(name: str) -> bool:
    """macOS's AppleDouble files (`._1.JPEG`, beside every file copied from a Mac to another
    disk or zipped there, also under `__MACOSX/`): metadata with an image's suffix, which
    `unzip` users and photo viewers pass over."""
    parts = PurePosixPath(str(name).replace("\\", "/")).parts
    return bool(parts) and (parts[-1].startswith("._") or "__MACOSX" in parts)


def skip_metadata(names: list, where: str) -> list:
    """`names` without macOS metadata files, saying once on stderr how many were skipped."""
    kept = [n for n in names if not is_metadata_file(str(n))]
    if len(kept) < len(names):
        print(
            f"note: {where}: skipped {len(names) - len(kept)} macOS metadata file(s) (._*)",
            file=sys.stderr,
        )
    return kept


def natural_key(name: str):
    """Sort key putting "2.JPEG" before "10.JPEG"."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def folder_images(folder: Path) -> list[Path]:
    """The one rule for a folder of the exam's images (Problem 2's validation_images/ and
    test_images/, and the demo's photographs taken from them): its image files at the top
    level, macOS metadata skipped (and said), in natural order; subfolders (a figure someone
    saved beside the photographs) are not images of the set."""
    found = [f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(skip_metadata(found, str(folder)), key=lambda f: natural_key(f.name))


def list_image_files(paths: list[str | os.PathLike], check: bool = True) -> list[ImageItem]:
    """Image files named directly, or found (sorted) inside named folders; with `check`, each
    file's header is read now, so a bad file stops the command before the model loads."""
    items = _image_files(paths)
    if check:
        for item in items:
            check_image_header(item)
    return items


def _image_files(paths: list[str | os.PathLike]) -> list[ImageItem]:
    items = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            found = skip_metadata(found, str(p))
            if not found:
                raise ConvlensError(f"{p}: folder contains no images")
            items += [file_item(f) for f in found]
        elif p.is_file():
            items.append(file_item(p))
        elif p.exists():
            raise ConvlensError(f"{p}: not a regular file or folder")
        else:
            raise ConvlensError(f"{p}: no such file or folder")
    return items
