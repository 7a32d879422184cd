"""Reading images from files or zip members, with errors that name the file."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from convlens.errors import ConvlensError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm"}


@dataclass(frozen=True)
class ImageItem:
    """One image: a display name, how to get its bytes, and its class id if known."""

    name: str
    read_bytes: Callable[[], bytes]
    label: int | None = None


def read_image(item: ImageItem | str | os.PathLike) -> Image.Image:
    """Decode an image to RGB (grayscale, CMYK, palette and alpha images are converted)."""
    if not isinstance(item, ImageItem):
        item = file_item(item)
    try:
        data = item.read_bytes()
    except FileNotFoundError as exc:
        raise ConvlensError(f"{item.name}: file not found") from exc
    except OSError as exc:
        raise ConvlensError(f"{item.name}: cannot read ({exc})") from exc
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.mode in ("P", "LA", "RGBA", "PA"):
                img = img.convert("RGBA")
                background = Image.new("RGB", img.size, (255, 255, 255))
                background.paste(img, mask=img.getchannel("A"))
                return background
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ConvlensError(f"{item.name}: not a readable image ({exc})") from exc


def file_item(path: str | os.PathLike, label: int | None = None) -> ImageItem:
    path = Path(path)
    return ImageItem(str(path), path.read_bytes, label)


def zip_item(archive: zipfile.ZipFile, member: str, label: int | None = None) -> ImageItem:
    # Re-open by name on each read so items stay usable after the caller's `with` block.
    filename = archive.filename

    def read() -> bytes:
        with zipfile.ZipFile(filename) as z:
            return z.read(member)

    return ImageItem(f"{filename}:{member}", read, label)


def list_image_files(paths: list[str | os.PathLike]) -> list[ImageItem]:
    """Image files named directly, or found (sorted) inside named folders."""
    items = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ConvlensError(f"{p}: folder contains no images")
            items += [file_item(f) for f in found]
        elif p.is_file():
            items.append(file_item(p))
        else:
            raise ConvlensError(f"{p}: no such file or folder")
    return items
