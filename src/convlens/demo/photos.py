"""Real photographs that arrive with ordinary dependencies, for demos, tests and benchmarks.

Nothing here touches the network: scikit-image, scikit-learn and matplotlib ship these files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image


def bundled_photographs() -> dict[str, np.ndarray]:
    """Named H x W x 3 uint8 colour photographs from installed packages."""
    from skimage import data

    photos = {
        "astronaut": data.astronaut(),
        "chelsea": data.chelsea(),
        "coffee": data.coffee(),
        "rocket": data.rocket(),
        "hubble_deep_field": data.hubble_deep_field(),
        "retina": data.retina(),
        "immunohistochemistry": data.immunohistochemistry(),
    }
    left, right, _ = data.stereo_motorcycle()
    photos["motorcycle_left"], photos["motorcycle_right"] = left, right
    try:
        from sklearn.datasets import load_sample_images

        for name, img in zip(("china", "flower"), load_sample_images().images, strict=True):
            photos[name] = img
    except Exception:  # noqa: BLE001 - optional source; the rest suffices
        pass
    try:
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            photos["grace_hopper"] = np.asarray(Image.open(f).convert("RGB"))
    except Exception:  # noqa: BLE001 - optional source
        pass
    return {k: np.ascontiguousarray(v[..., :3]).astype(np.uint8) for k, v in photos.items()}


def folder_photographs(folder: str | Path) -> dict[str, np.ndarray]:
    """Every image of a folder, by file name (1.JPEG and 1.png are two photographs), listed by
    the rule Problem 2 reads its folders with (convlens.data.images.folder_images)."""
    from convlens.data.images import file_item, folder_images, read_image

    return {f.name: np.asarray(read_image(file_item(f))) for f in folder_images(Path(folder))}


def random_crops(
    photo: np.ndarray, n: int, size: int, rng: np.random.Generator, *, min_frac: float = 0.3
) -> Iterator[np.ndarray]:
    """`n` square crops covering min_frac..1 of the shorter side, resized to size x size
    (3 x size x size uint8, channels first as in the exam's npz)."""
    h, w = photo.shape[:2]
    short = min(h, w)
    img = Image.fromarray(photo)
    for _ in range(n):
        low = min(short, max(size // 2, int(short * min_frac)))  # a small region: its side
        s = int(rng.integers(low, short + 1))
        y, x = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        crop = img.crop((x, y, x + s, y + s)).resize((size, size), Image.BILINEAR)
        yield np.asarray(crop).transpose(2, 0, 1)
