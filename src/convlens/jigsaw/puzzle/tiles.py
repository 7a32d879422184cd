"""Shuffle and de-shuffle 2x2 tiles of image batches, vectorised, for numpy and torch.

Exact exam semantics: deshuffle moves tile i of the shuffled image to position order[i];
shuffle is its inverse (slot i receives the original tile from position order[i]).
"""

from __future__ import annotations

import numpy as np
import torch

from convlens.errors import ConvlensError
from convlens.jigsaw.puzzle.permutations import inverse, validate_orders


def _check(images, orders):
    if images.ndim != 4:
        raise ConvlensError(f"images must be N x C x H x W, got shape {tuple(images.shape)}")
    n, _, h, w = images.shape
    if h % 2 or w % 2:
        raise ConvlensError(f"image height and width must be even, got {h} x {w}")
    orders = validate_orders(orders.cpu().numpy() if isinstance(orders, torch.Tensor) else orders)
    if len(orders) != n:
        raise ConvlensError(f"got {n} images but {len(orders)} orders")
    return orders


def to_tiles(images):
    """N x C x H x W -> N x 4 x C x H/2 x W/2 in raster order."""
    n, c, h, w = images.shape
    t = images.reshape(n, c, 2, h // 2, 2, w // 2)
    if isinstance(t, torch.Tensor):
        return t.permute(0, 2, 4, 1, 3, 5).reshape(n, 4, c, h // 2, w // 2)
    return t.transpose(0, 2, 4, 1, 3, 5).reshape(n, 4, c, h // 2, w // 2)


def from_tiles(tiles):
    n, _, c, th, tw = tiles.shape
    t = tiles.reshape(n, 2, 2, c, th, tw)
    if isinstance(t, torch.Tensor):
        return t.permute(0, 3, 1, 4, 2, 5).reshape(n, c, 2 * th, 2 * tw)
    return t.transpose(0, 3, 1, 4, 2, 5).reshape(n, c, 2 * th, 2 * tw)


def _gather(tiles, index: np.ndarray):
    """out[n, i] = tiles[n, index[n, i]]."""
    if isinstance(tiles, torch.Tensor):
        idx = torch.as_tensor(index, device=tiles.device)
        return tiles[torch.arange(len(idx), device=tiles.device)[:, None], idx]
    return tiles[np.arange(len(index))[:, None], index]


def shuffle(images, orders):
    """Slot i of each output takes the original tile at position orders[n, i]."""
    orders = _check(images, orders)
    return from_tiles(_gather(to_tiles(images), orders))


def deshuffle(images, orders):
    """Tile i of each shuffled image goes to position orders[n, i] of the restored image."""
    orders = _check(images, orders)
    # restored[order[i]] = shuffled[i]  <=>  restored[j] = shuffled[inv[j]]
    return from_tiles(_gather(to_tiles(images), inverse(orders)))
