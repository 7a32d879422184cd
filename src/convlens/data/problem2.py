"""Loaders for the exam's Problem 2 data (folder or zip) and ImageFolder-style trees.

problem2/ holds val.txt ("<file> <class id>" per line, the last without a newline),
validation_images/, synset_words.txt ("<wnid> <names>", line k = class k) and test_images/.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from convlens import archive
from convlens.data.imagenet import imagenet_classes
from convlens.data.images import (
    IMAGE_SUFFIXES,
    ImageItem,
    check_image_header,
    file_item,
    folder_images,
    is_metadata_file,
    natural_key,
    read_regular_file,
    skip_metadata,
    zip_item,
)
from convlens.errors import ConvlensError


def decoded_text(data: bytes, where: str) -> str:
    """Bytes of a text file as text: UTF-16 where its byte-order mark says so, else UTF-8
    (with or without a mark); anything else is one line naming the file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ConvlensError(
            f"{where}: not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}); save it "
            "as UTF-8"
        ) from None


@dataclass
class Problem2:
    validation: list[ImageItem]
    test: list[ImageItem]
    wnids: list[str]
    names: list[str]
    source: str


# val.txt and synset_words.txt: 1,000 lines of names, far below this.
_MAX_TEXT_BYTES = 16 << 20


def _zip_root(path: Path, members: set[str]) -> str:
    """The folder inside the zip that holds the exam's files: the shallowest one with a val.txt
    (macOS's __MACOSX copies ignored); of several at that depth, the one with
    validation_images/; where that still leaves several, one line names them all."""
    folders = [
        str(PurePosixPath(n).parent)
        for n in members
        if PurePosixPath(n).name == "val.txt" and not is_metadata_file(n)
    ]
    if not folders:
        raise ConvlensError(f"{path}: zip has no val.txt")
    depth = min(len(PurePosixPath(f).parts) for f in folders)
    shallow = sorted(f for f in folders if len(PurePosixPath(f).parts) == depth)

    def prefix(folder: str) -> str:
        return "" if folder == "." else folder + "/"

    if len(shallow) > 1:
        with_images = [
            f
            for f in shallow
            if any(n.startswith(prefix(f) + "validation_images/") for n in members)
        ]
        shallow = with_images if len(with_images) == 1 else shallow
    if len(shallow) > 1:
        listed = ", ".join(f"{f}/val.txt" for f in shallow)
        raise ConvlensError(
            f"{path}: holds several problem2 folders ({listed}); unzip it and pass the folder"
        )
    return prefix(shallow[0])


class _Tree:
    """The same questions asked of a folder or of a zip file."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = None
        if path.is_file():
            if not zipfile.is_zipfile(path):
                raise ConvlensError(f"{path}: expected the problem2 folder or problem2.zip")
            self.zip = archive.open_archive(path)
            self.members = set(self.zip.names())
            self.root = _zip_root(path, self.members)
        elif not path.is_dir():
            raise ConvlensError(f"{path}: no such folder or zip")

    def exists(self, rel: str) -> bool:
        if self.zip is None:
            return (self.path / rel).exists()
        return (self.root + rel).rstrip("/") in self.members

    def text(self, rel: str) -> str:
        """A text file's contents, in the encoding its byte-order mark names (Windows editors
        write UTF-8 with one, or UTF-16), else UTF-8; text in another encoding is refused
        naming the file."""
        if not self.exists(rel):
            raise ConvlensError(f"{self.path}: missing {rel}")
        if self.zip is None:
            data = read_regular_file(self.path / rel, _MAX_TEXT_BYTES)
        else:
            data = self.zip.read(self.root + rel, _MAX_TEXT_BYTES)
        return decoded_text(data, f"{self.path}/{rel}")

    def item(self, rel: str, label: int | None = None) -> ImageItem:
        if self.zip is None:
            # a symbolic link may lead out of the folder: where it really points must be inside
            folder = (self.path / PurePosixPath(rel).parts[0]).resolve()
            if not (self.path / rel).resolve().is_relative_to(folder):
                raise ConvlensError(
                    f"{self.path / rel}: a link to {(self.path / rel).resolve()}, outside "
                    f"{PurePosixPath(rel).parts[0]}/; copy the file in instead"
                )
            return file_item(self.path / rel, label)
        return zip_item(self.path, self.root + rel, label)

    def images_in(self, folder: str) -> list[str]:
        if self.zip is None:
            d = self.path / folder
            return [f.name for f in folder_images(d)] if d.is_dir() else []
        else:
            prefix = self.root + folder + "/"
            names = [n[len(prefix) :] for n in self.members if n.startswith(prefix)]
            names = [n for n in names if n and "/" not in n]
        names = [n for n in names if PurePosixPath(n).suffix.lower() in IMAGE_SUFFIXES]
        return sorted(skip_metadata(names, f"{self.path}/{folder}"), key=natural_key)


def parse_synset_words(text: str, source: str) -> tuple[list[str], list[str]]:
    wnids, names = [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.strip().split(" ", 1)
        if not re.fullmatch(r"n\d{8}", parts[0]):
            raise ConvlensError(f"{source} line {lineno}: expected '<wnid> <names>', got {line!r}")
        wnids.append(parts[0])
        names.append(parts[1] if len(parts) > 1 else parts[0])
    _check_one_line_per_class(wnids, source)
    return wnids, names


def _check_one_line_per_class(wnids: list[str], source: str) -> None:
    """Line k names class k of VGG16's 1,000 outputs: a missing, repeated or moved line would
    shift every name after it, silently, so the file must list ImageNet's classes exactly in
    the order of the shipped class index."""
    index = list(imagenet_classes().wnids)
    seen: dict[str, int] = {}
    for i, wnid in enumerate(wnids):
        if wnid in seen:
            raise ConvlensError(
                f"{source}: {wnid} is named twice (classes {seen[wnid]} and {i}); expected one "
                "line per class"
            )
        seen[wnid] = i
    for i, (wnid, expected) in enumerate(zip(wnids, index, strict=False)):
        if wnid != expected:
            raise ConvlensError(
                f"{source}: class {i} is {wnid}, but ImageNet's class {i} is {expected} (is a "
                "line missing or moved?)"
            )
    if len(wnids) != len(index):
        raise ConvlensError(
            f"{source}: {len(wnids)} class lines, expected one line per class of the "
            f"{len(index)}-class model"
        )


def parse_val_txt(text: str, source: str, num_classes: int) -> list[tuple[str, int]]:
    """Lines "<file> <class id>"; a missing final newline is fine, blank lines are skipped."""
    rows, seen = [], {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not re.fullmatch(r"-?\d+", parts[1]):
            raise ConvlensError(
                f"{source} line {lineno}: expected '<file> <class id>', got {line!r}"
            )
        label = int(parts[1])
        if not 0 <= label < num_classes:
            raise ConvlensError(
                f"{source} line {lineno}: class id {label} is out of range 0..{num_classes - 1}"
            )
        if parts[0] in seen:
            raise ConvlensError(
                f"{source} line {lineno}: {parts[0]} is listed again (first on line "
                f"{seen[parts[0]]}); each image needs one label"
            )
        seen[parts[0]] = lineno
        rows.append((parts[0], label))
    if not rows:
        raise ConvlensError(f"{source}: no entries")
    return rows


def load_problem2(path: str | os.PathLike) -> Problem2:
    """The exam's folder or zip; every file named in val.txt must exist."""
    path = Path(path).expanduser()
    tree = _Tree(path)
    if tree.exists("synset_words.txt"):
        wnids, names = parse_synset_words(tree.text("synset_words.txt"), f"{path}/synset_words.txt")
    else:
        classes = imagenet_classes()
        wnids, names = list(classes.wnids), list(classes.names)
    validation = []
    for name, label in parse_val_txt(tree.text("val.txt"), f"{path}/val.txt", len(wnids)):
        parts = PurePosixPath(name).parts
        if PurePosixPath(name).is_absolute() or ".." in parts:
            raise ConvlensError(
                f"{path}/val.txt names {name}, a path that leaves validation_images/"
            )
        rel = f"validation_images/{name}"
        if not tree.exists(rel):
            raise ConvlensError(f"{path}/val.txt names {name}, which is not in validation_images/")
        validation.append(tree.item(rel, label))
    test = [tree.item(f"test_images/{n}") for n in tree.images_in("test_images")]
    # Every image is checked now (header and end marker, no decoding), so a damaged file stops
    # the command before a model is loaded rather than halfway through inference.
    for item in validation + test:
        check_image_header(item)
    return Problem2(validation, test, wnids, names, str(path))


def image_folder(root: str | os.PathLike) -> list[ImageItem]:
    """An ImageFolder-style tree root/<wnid>/<image>, labelled with ImageNet ids by wnid."""
    root = Path(root)
    if not root.is_dir():
        raise ConvlensError(f"{root}: no such folder")
    ids = imagenet_classes().id_of_wnid
    items = []
    for sub in sorted(d for d in root.iterdir() if d.is_dir()):
        if sub.name not in ids:
            raise ConvlensError(f"{sub}: folder name is not an ImageNet synset id (n########)")
        for f in sorted(sub.iterdir(), key=lambda p: natural_key(p.name)):
            if f.suffix.lower() in IMAGE_SUFFIXES:
                items.append(file_item(f, ids[sub.name]))
    if not items:
        raise ConvlensError(f"{root}: no images in synset folders")
    return items


def labelled_items(path: str | os.PathLike) -> tuple[list[ImageItem], list[str]]:
    """Labelled images and class names from the exam's folder or zip, or from an
    ImageFolder-style tree of synset folders."""
    path = Path(path)
    if path.is_file() or (path / "val.txt").exists():
        p2 = load_problem2(path)
        return p2.validation, p2.names
    return image_folder(path), list(imagenet_classes().names)
