"""ImageNet evaluation preprocessing with Pillow and torch (no torchvision).

resize the shorter side to 256 with bilinear filtering (Pillow's resize antialiases when it
shrinks, as torchvision's PIL path does), centre-crop 224, scale to [0, 1], normalise.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESIZE, CROP = 256, 224  # the shorter side, then the central square, as the weights were trained


def _shorter_side_size(w: int, h: int, size: int) -> tuple[int, int]:
    return (size, int(size * h / w)) if w <= h else (int(size * w / h), size)


def resize_shorter(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    if min(w, h) == size:
        return img
    return img.resize(_shorter_side_size(w, h, size), Image.BILINEAR)


def resize_and_crop(img: Image.Image, resize: int = RESIZE, crop: int = CROP) -> Image.Image:
    """resize_shorter then center_crop, never allocating more than a few crops' worth of pixels.

    An ordinary photograph takes exactly torchvision's two steps. A very elongated one (a 1 x
    16000 strip would become 256 x 4,096,000) has only the region under the crop resized, with
    Pillow's `box`: the same pixels up to the filter's treatment of the region's border."""
    w, h = img.size
    new_w, new_h = _shorter_side_size(w, h, resize)
    if new_w * new_h <= 4 * resize * resize or resize < crop:
        return center_crop(resize_shorter(img, resize), crop)
    left, top = int(round((new_w - crop) / 2.0)), int(round((new_h - crop) / 2.0))
    sx, sy = new_w / w, new_h / h
    box = (left / sx, top / sy, (left + crop) / sx, (top + crop) / sy)
    return img.resize((crop, crop), Image.BILINEAR, box=box)


def center_crop(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    if w < size or h < size:  # pad like torchvision before cropping a too-small image
        canvas = Image.new(img.mode, (max(w, size), max(h, size)))
        canvas.paste(img, ((max(w, size) - w) // 2, (max(h, size) - h) // 2))
        img, (w, h) = canvas, canvas.size
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def to_tensor(img: Image.Image) -> torch.Tensor:
    """HWC uint8 RGB -> CHW float in [0, 1]."""
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr.transpose(2, 0, 1).copy())


def normalize(x: torch.Tensor, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    return (x - m) / s


def normalized_bounds(mean=IMAGENET_MEAN, std=IMAGENET_STD) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel (lo, hi) of normalised pixels (the images of 0 and 1), 1 x C x 1 x 1."""
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return -m / s, (1 - m) / s


def denormalize(x: torch.Tensor, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> np.ndarray:
    """Normalised CHW (or BCHW) tensor -> displayable HWC (or BHWC) float array in [0, 1]."""
    x = x.detach().float().cpu()
    m = torch.tensor(mean).view(-1, 1, 1)
    s = torch.tensor(std).view(-1, 1, 1)
    out = (x * s + m).clamp(0, 1)
    return out.movedim(-3, -1).numpy()


def preprocess(img: Image.Image, resize: int = RESIZE, crop: int = CROP) -> torch.Tensor:
    """The standard ImageNet evaluation transform: one PIL image -> normalised CHW tensor."""
    return normalize(to_tensor(resize_and_crop(img.convert("RGB"), resize, crop)))


def preprocess_batch(images, resize: int = RESIZE, crop: int = CROP) -> torch.Tensor:
    return torch.stack([preprocess(img, resize, crop) for img in images])
