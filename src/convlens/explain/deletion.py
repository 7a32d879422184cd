"""Deletion and insertion (Petsiuk et al. 2018): remove (or add) pixels in order of decreasing
attribution and follow the target probability. A faithful map makes deletion fall fast (small
area) and insertion rise fast (large area)."""

from __future__ import annotations

import torch
from torch import nn

from convlens.engine.forward import batched
from convlens.errors import ConvlensError
from convlens.explain.blur import gaussian_blur
from convlens.explain.model_state import as_targets, check_images, preserved
from convlens.runtime import Runtime

KINDS = ("deletion", "insertion")


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
    frames = _Frames(images, _flat_maps(maps, images.shape), steps, blur_sigma)
    targets = as_targets(target, len(images), images.device)
    specs = [
        (name, kind, i, s)
        for name in frames.ranks
        for kind in KINDS
        for i in range(len(images))
        for s in range(steps + 1)
    ]
    unique: dict[tuple, tuple] = {}
    for spec in specs:
        unique.setdefault(frames.key(*spec), spec)
    probs = _target_probabilities(
        model, frames, list(unique.items()), targets, max_batch, progress, channels_last
    )
    out = {}
    for name in frames.ranks:
        curves = {
            kind: torch.tensor(
                [
                    [probs[frames.key(name, kind, i, s)] for s in range(steps + 1)]
                    for i in range(len(images))
                ]
            )
            for kind in KINDS
        }
        out[name] = {
            **curves,
            "deletion_auc": _trapezoid_area(curves["deletion"]),
            "insertion_auc": _trapezoid_area(curves["insertion"]),
        }
    return out


def _flat_maps(maps: dict[str, torch.Tensor], shape) -> dict[str, torch.Tensor]:
    """Each map as B x (H * W), channels reduced by the absolute maximum."""
    b, _, h, w = shape
    flat = {}
    for name, m in maps.items():
        m = m.abs().amax(1) if m.ndim == 4 else m
        if m.shape != (b, h, w):
            raise ConvlensError(f"maps must be {b} x {h} x {w}, got {tuple(m.shape)}")
        flat[name] = m.flatten(1)
    return flat


class _Frames:
    """The images each curve shows the model: frame (name, kind, i, s) is image i with the
    first counts[s] pixels of map `name` removed (deletion) or restored into its blurred copy
    (insertion); `key` names frames that are the same image whatever the map, so they run once."""

    def __init__(self, images, flat_maps: dict, steps: int, blur_sigma: float):
        b, _, self.h, self.w = images.shape
        self.images, self.blurred = images, gaussian_blur(images, blur_sigma)
        self.n_pix = self.h * self.w
        self.counts = [round(self.n_pix * s / steps) for s in range(steps + 1)]
        # rank[p] = position of pixel p in the map's order (most important first); a pixel is
        # "chosen" at step s when its rank is below counts[s]: one comparison per frame.
        self.ranks = {}
        for name, m in flat_maps.items():
            order = m.argsort(dim=1, descending=True)
            rank = torch.empty_like(order)
            positions = torch.arange(self.n_pix, device=images.device).expand(b, -1)
            self.ranks[name] = rank.scatter_(1, order, positions)

    def key(self, name: str, kind: str, i: int, s: int) -> tuple:
        n = self.counts[s]
        if (kind == "deletion" and n == 0) or (kind == "insertion" and n == self.n_pix):
            return ("original", i)
        if n == self.n_pix:
            return ("removed", i)
        if n == 0:
            return ("blurred", i)
        return (name, kind, i, s)

    def frame(self, name: str, kind: str, i: int, s: int) -> torch.Tensor:
        chosen = (self.ranks[name][i] < self.counts[s]).view(1, self.h, self.w).float()
        if kind == "deletion":
            return self.images[i] * (1 - chosen)
        return self.blurred[i] * (1 - chosen) + self.images[i] * chosen


def _target_probabilities(
    model, frames: _Frames, todo: list, targets, max_batch: int, progress: bool, channels_last
) -> dict[tuple, float]:
    """{frame key: the target's softmax probability} for each (key, spec) of `todo`, in
    batches of `max_batch` frames."""
    chunks = range(0, len(todo), max_batch)
    frames_of = (
        torch.stack([frames.frame(*spec) for _, spec in todo[s : s + max_batch]]) for s in chunks
    )
    # forward passes only, so the faster layout where `channels_last` (the maps are made)
    with preserved(model):
        every = batched(
            model,
            frames_of,
            lambda net, batch: torch.softmax(net(batch).float(), 1),
            runtime=Runtime(frames.images.device, "fp32", progress),
            purpose="forward" if channels_last else "inference",
            desc="deletion/insertion",
            total=len(chunks),
            on_device=True,
        )
    t = targets[[spec[2] for _, spec in todo]]
    p = every.gather(1, t.view(-1, 1)).squeeze(1)
    return dict(zip([k for k, _ in todo], p.cpu().tolist(), strict=True))
