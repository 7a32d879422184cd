"""One training epoch's data: each labelled image restored once with its known order; every
epoch, augmentation (crop, flip, colour jitter, blending) is applied to the *restored* image and
it is re-shuffled with a fresh permutation (all 24 balanced), so labels stay exact."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from convlens.data.transforms import normalize
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS
from convlens.jigsaw.puzzle.splits import balanced_classes, distinct_classes
from convlens.jigsaw.puzzle.tiles import shuffle
from convlens.jigsaw.training.config import TrainConfig


def augmentation_parameters(n: int, cfg: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """n x 7 per-image draws (flip, brightness, contrast, saturation, crop side, crop left, crop
    top) for one epoch; the crop is the whole image unless cfg.crop_scale < 1. With cfg.mix > 0
    two more columns: another image to blend in and the image's own weight (1: not blended).

    Drawn for the whole epoch at once and indexed by image, so that the augmentation of an image
    does not depend on which batch, or which process, it lands in.
    """
    flip = (rng.random(n) < 0.5) & cfg.flip
    jitter = 1 + (rng.random((n, 3)) * 2 - 1) * cfg.color_jitter
    crop = np.tile([1.0, 0.0, 0.0], (n, 1))
    if cfg.crop_scale < 1:  # drawn only then, so runs without it replay as before
        side = rng.uniform(cfg.crop_scale, 1.0, n)
        crop = np.column_stack([side, rng.random(n) * (1 - side), rng.random(n) * (1 - side)])
    columns = [flip, jitter, crop]
    if cfg.mix > 0:  # drawn only then, so runs without it replay as before
        weight = np.where(rng.random(n) < cfg.mix, rng.uniform(0.5, 1.0, n), 1.0)
        columns += [rng.integers(0, n, n), weight]  # an index, exact in float32 below 2**24
    return np.column_stack(columns).astype(np.float32)


def blend(x: torch.Tensor, partners: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Restored images blended with other restored images: both are in the identity order, so
    the blend has the same arrangement and its label stays exact, while its content is a scene
    no photograph shows (the network has to learn what holds for any content)."""
    w = weight.view(-1, 1, 1, 1)
    return w * x + (1 - w) * partners


def augment(x: torch.Tensor, params: np.ndarray) -> torch.Tensor:
    """Crop, flip and colour-jitter whole (restored) images in [0, 1]; applied before shuffling,
    so the seams of the puzzle are cut through new content at a new scale, while the labels
    stay exact."""
    p = torch.from_numpy(params)
    if (p[:, 4] < 1).any():
        x = _rescaled_crops(x, p[:, 4:7])
    p = p[:, :4].reshape(-1, 4, 1, 1, 1)
    x = torch.where(p[:, 0] > 0.5, x.flip(-1), x)
    brightness, contrast, saturation = p[:, 1], p[:, 2], p[:, 3]
    gray = x.mean(1, keepdim=True)
    x = gray + (x - gray) * saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (mean + (x - mean) * contrast) * brightness
    return x.clamp(0, 1)


def _rescaled_crops(x: torch.Tensor, crop: torch.Tensor) -> torch.Tensor:
    """Each image's square window (side, left, top as fractions of the side) resized back to the
    full side, bilinearly, by one affine grid sample for the batch."""
    side, left, top = crop[:, 0], crop[:, 1], crop[:, 2]
    theta = torch.zeros(len(x), 2, 3)
    theta[:, 0, 0] = side
    theta[:, 1, 1] = side
    theta[:, 0, 2] = 2 * left + side - 1  # the window's centre in [-1, 1]
    theta[:, 1, 2] = 2 * top + side - 1
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(
        x, grid, mode="bilinear", padding_mode="border", align_corners=False
    )


def epoch_plan(n: int, cfg: TrainConfig, rng: np.random.Generator):
    """(image at each position, its order class, its augmentation) for one epoch.

    With cfg.shuffles > 1 the copies of an image sit side by side (so in one batch), share one
    augmentation and get different orders."""
    order = rng.permutation(n)
    if cfg.shuffles == 1:
        return order, balanced_classes(n, rng), augmentation_parameters(n, cfg, rng)
    classes = distinct_classes(n, cfg.shuffles, rng)
    params = np.repeat(augmentation_parameters(n, cfg, rng), cfg.shuffles, 0)
    return np.repeat(order, cfg.shuffles), classes, params


def _local_batches(n: int, batch_size: int, distributed) -> list[np.ndarray]:
    """Positions of each global batch in the epoch order; under DDP, this rank's slice."""
    out = []
    for start in range(0, n, batch_size):
        pos = np.arange(start, min(start + batch_size, n))
        if distributed:
            if len(pos) < distributed.world_size:
                continue  # a last global batch too small to give every rank an image
            pos = distributed.local_slice(pos)
        out.append(pos)
    return out


class EpochBatches(Dataset):
    """One epoch's training batches: restore, augment, re-shuffle, normalise.

    Each item is a whole batch, built with the vectorised code, so a DataLoader with workers
    prepares batches in other processes (and pins them for a GPU) while with no workers it is
    the same loop as before."""

    def __init__(self, originals: torch.Tensor, order, classes, params, batches):
        self.originals, self.order, self.classes = originals, order, classes
        self.params, self.batches = params, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        pos = self.batches[k]
        y = torch.from_numpy(self.classes[pos])
        params = self.params[pos]
        images = self.originals[self.order[pos]].float() / 255.0
        if params.shape[1] > 7:
            partners = self.originals[params[:, 7].astype(np.int64)].float() / 255.0
            images = blend(images, partners, torch.from_numpy(params[:, 8]))
        restored = augment(images, params)
        return normalize(shuffle(restored, PERMUTATIONS[y.numpy()])), y


def epoch_loader(originals: torch.Tensor, cfg: TrainConfig, rng, device, distributed):
    """This epoch's batches: every image in `cfg.shuffles` fresh orders, augmented, in
    `cfg.workers` worker processes; under torchrun this rank's share of the same plan."""
    order, classes, params = epoch_plan(len(originals), cfg, rng)  # the same on every rank
    local = _local_batches(len(order), cfg.batch_size, distributed)
    batches = EpochBatches(originals, order, classes, params, local)
    return DataLoader(
        batches, batch_size=None, num_workers=cfg.workers, pin_memory=device.type == "cuda"
    )
