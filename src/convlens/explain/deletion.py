"""Deletion and insertion (Petsiuk et al. 2018): remove (or add) pixels in order of decreasing
attribution and follow the target probability. A faithful map makes deletion fall fast (small
area) and insertion rise fast (large area)."""

from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from convlens.errors import ConvlensError
from convlens.explain.blur import gaussian_blur
from convlens.explain.model_state import as_targets, check_images, preserved
from convlens.runtime import placed


def _trapezoid_area(curve: torch.Tensor) -> torch.Tensor:
    """Area under curves sampled on [0, 1] at equal steps (B x S+1 -> B)."""
    return torch.trapezoid(curve, dx=1.0 / (curve.shape[1] - 1), dim=1)


def deletion_insertion(
    model: nn.Module,
    images: torch.Tensor,
    maps: torch.Tensor,
    target,
    *,
    steps: int = 32,
    blur_sigma: float = 5.0,
    max_batch: int = 32,
) -> dict[str, torch.Tensor]:
    """Deletion and insertion curves (B x steps+1) of the target's softmax probability.

    Deletion replaces pixels by zero (the mean image after normalisation); insertion starts from
    a strongly blurred copy and restores the original pixels. `maps` is B x H x W (or
    B x C x H x W, reduced by the absolute maximum over channels).
    """
    curves = deletion_insertion_curves(
        model,
        images,
        {"map": maps},
        target,
        steps=steps,
        blur_sigma=blur_sigma,
        max_batch=max_batch,
    )
    return curves["map"]


@torch.no_grad()
def deletion_insertion_curves(
    model: nn.Module,
    images: torch.Tensor,
    maps: dict[str, torch.Tensor],
    target,
    *,
    steps: int = 32,
    blur_sigma: float = 5.0,
    max_batch: int = 32,
    progress: bool = False,
    channels_last: bool = True,
) -> dict[str, dict[str, torch.Tensor]]:
    """`deletion_insertion` for several maps of the same images at once, per map name.

    Every frame of every image, kind and map goes through the model in batches of
    `max_batch`. The frames that do not depend on the map (the original image, which starts
    deletion and ends insertion, the all-removed image and the fully blurred one) run once
    per image instead of once per map and curve. The frames go through the model in
    `channels_last` (forward passes only): VGG16's ran 1.25x the speed of the contiguous layout
    on a 2-core CPU held to AVX2 (bench_explanation_checks.py).
    """
    images = check_images(images)
    b, c, h, w = images.shape
    flat_maps = {}
    for name, m in maps.items():
        m = m.abs().amax(1) if m.ndim == 4 else m
        if m.shape != (b, h, w):
            raise ConvlensError(f"maps must be {b} x {h} x {w}, got {tuple(m.shape)}")
        flat_maps[name] = m.flatten(1)
    targets = as_targets(target, b, images.device)
    n_pix = h * w
    counts = [round(n_pix * s / steps) for s in range(steps + 1)]
    blurred = gaussian_blur(images, blur_sigma)
    # rank[p] = position of pixel p in the map's order (most important first); a pixel is
    # "chosen" at step s when its rank is below counts[s]: one comparison per frame.
    ranks = {}
    for name, m in flat_maps.items():
        order = m.argsort(dim=1, descending=True)
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(n_pix, device=images.device).expand(b, -1))
        ranks[name] = rank

    def key(name: str, kind: str, i: int, s: int) -> tuple:
        n = counts[s]
        if (kind == "deletion" and n == 0) or (kind == "insertion" and n == n_pix):
            return ("original", i)
        if n == n_pix:
            return ("removed", i)
        if n == 0:
            return ("blurred", i)
        return (name, kind, i, s)

    def frame(name: str, kind: str, i: int, s: int) -> torch.Tensor:
        chosen = (ranks[name][i] < counts[s]).view(1, h, w).float()
        if kind == "deletion":
            return images[i] * (1 - chosen)
        return blurred[i] * (1 - chosen) + images[i] * chosen

    specs = [
        (name, kind, i, s)
        for name in flat_maps
        for kind in ("deletion", "insertion")
        for i in range(b)
        for s in range(steps + 1)
    ]
    unique: dict[tuple, tuple] = {}
    for spec in specs:
        unique.setdefault(key(*spec), spec)
    todo = list(unique.items())
    probs: dict[tuple, float] = {}
    chunks = range(0, len(todo), max_batch)
    # forward passes only, so the faster channels_last layout (the maps are already made)
    with preserved(model), placed(model, images.device, channels_last=channels_last) as net:
        for start in tqdm(chunks, desc="deletion/insertion", disable=not progress, leave=False):
            part = todo[start : start + max_batch]
            frames = torch.stack([frame(*spec) for _, spec in part])
            if channels_last:
                frames = frames.contiguous(memory_format=torch.channels_last)
            t = targets[[spec[2] for _, spec in part]]
            p = torch.softmax(net(frames).float(), 1).gather(1, t.view(-1, 1)).squeeze(1)
            probs.update(zip([k for k, _ in part], p.cpu().tolist(), strict=True))
    out = {}
    for name in flat_maps:
        curves = {
            kind: torch.tensor(
                [[probs[key(name, kind, i, s)] for s in range(steps + 1)] for i in range(b)]
            )
            for kind in ("deletion", "insertion")
        }
        out[name] = {
            **curves,
            "deletion_auc": _trapezoid_area(curves["deletion"]),
            "insertion_auc": _trapezoid_area(curves["insertion"]),
        }
    return out
