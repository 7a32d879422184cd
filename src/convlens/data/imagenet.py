"""The ImageNet-1k class index shipped with convlens: id <-> synset (wnid) <-> readable name."""

from __future__ import annotations

import functools
import importlib.resources
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageNetClasses:
    wnids: tuple[str, ...]
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.wnids)

    @functools.cached_property
    def id_of_wnid(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.wnids)}

    def name(self, class_id: int) -> str:
        return self.names[class_id]


@functools.cache
def imagenet_classes() -> ImageNetClasses:
    text = (importlib.resources.files("convlens.data") / "imagenet_class_index.json").read_text()
    index = json.loads(text)
    ids = sorted(index, key=int)
    return ImageNetClasses(
        wnids=tuple(index[i][0] for i in ids), names=tuple(index[i][1] for i in ids)
    )
