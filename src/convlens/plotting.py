"""Every figure convlens draws: one look, one place, written atomically as PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from convlens import atomic  # noqa: E402

plt.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "font.size": 9,
        "axes.titlesize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)
CMAP_HEAT = "inferno"


def save(fig, path: str | Path) -> Path:
    path = Path(path)
    try:
        with atomic.atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def image_with_topk(
    image: np.ndarray,
    names: Sequence[str],
    probs: Sequence[float],
    title: str,
    path,
    *,
    errors: Sequence[float] | None = None,
) -> Path:
    """The image beside a horizontal bar chart of its top-k classes (with +- std if given)."""
    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(8, 3), width_ratios=[1, 1.3])
    ax_img.imshow(image)
    ax_img.set_axis_off()
    ax_img.set_title(_short(title, 40))
    y = np.arange(len(names))[::-1]
    ax_bar.barh(y, probs, xerr=errors, color="#4c72b0", capsize=3)
    ax_bar.set_yticks(y, [_short(n) for n in names])
    ax_bar.set_xlim(0, 1)
    ax_bar.set_xlabel("softmax probability")
    for yi, p in zip(y, probs, strict=True):
        ax_bar.text(min(p + 0.02, 0.85), yi, f"{p:.3f}", va="center", fontsize=8)
    return save(fig, path)


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    path,
    *,
    ncols: int | None = None,
    row_labels: Sequence[str] | None = None,
    cmaps: Sequence[str | None] | None = None,
    size: float = 2.2,
) -> Path:
    """A grid of images (HWC in [0, 1], or HW heat maps drawn with a colour map)."""
    n = len(images)
    ncols = ncols or n
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        img = images[i]
        cmap = (cmaps[i] if cmaps else None) or (CMAP_HEAT if img.ndim == 2 else None)
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None)
        ax.set_title(_short(titles[i], 32), fontsize=8)
    if row_labels:
        for r, label in enumerate(row_labels):
            axes[r, 0].text(
                -0.08,
                0.5,
                label,
                transform=axes[r, 0].transAxes,
                rotation=90,
                va="center",
                ha="right",
                fontsize=9,
            )
    fig.tight_layout()
    return save(fig, path)


def lines(
    series: dict[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    title: str,
    path,
    *,
    x: Sequence[float] | None = None,
) -> Path:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for label, ys in series.items():
        ax.plot(x if x is not None else np.arange(len(ys)), ys, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return save(fig, path)


def explanation_rows(
    images: Sequence[np.ndarray],
    columns: dict[str, Sequence[np.ndarray]],
    titles: Sequence[str],
    path,
    *,
    size: float = 2.4,
    signed: Sequence[str] = ("guided backprop",),
) -> Path:
    """One row per image: the image, then one panel per explanation method.

    Single-channel panels are drawn in grey (images, and `signed` maps centred at 0.5) or with
    the heat colour map (magnitude maps such as saliency)."""
    ncols = 1 + len(columns)
    n = len(images)
    fig, axes = plt.subplots(n, ncols, figsize=(size * ncols, size * n + 0.2), squeeze=False)
    for i in range(n):
        panels = [("image", images[i])] + [(k, v[i]) for k, v in columns.items()]
        for j, (name, img) in enumerate(panels):
            ax = axes[i, j]
            ax.set_axis_off()
            img = img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img
            grey = j == 0 or name in signed
            cmap = ("gray" if grey else CMAP_HEAT) if img.ndim == 2 else None
            ax.imshow(
                img,
                cmap=cmap,
                vmin=0 if grey and img.ndim == 2 else None,
                vmax=1 if grey and img.ndim == 2 else None,
            )
            ax.set_title(_short(titles[i], 34) if j == 0 else name, fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def image_with_violins(
    image: np.ndarray,
    samples: np.ndarray,
    names: Sequence[str],
    title: str,
    path,
    *,
    deterministic: Sequence[float] | None = None,
) -> Path:
    """The image beside violins of its top classes' probabilities across MC samples (T x k)."""
    fig, (ax_img, ax_v) = plt.subplots(1, 2, figsize=(8, 3), width_ratios=[1, 1.5])
    ax_img.imshow(image, cmap="gray" if image.ndim == 2 else None)
    ax_img.set_axis_off()
    ax_img.set_title(_short(title, 40))
    pos = np.arange(1, samples.shape[1] + 1)
    parts = ax_v.violinplot(samples, positions=pos, showmeans=True, widths=0.8)
    for body in parts["bodies"]:
        body.set_alpha(0.5)
    if deterministic is not None:
        ax_v.scatter(pos, deterministic, marker="x", color="#c0392b", zorder=3, label="dropout off")
        ax_v.legend(fontsize=7, loc="upper right")
    ax_v.set_xticks(pos, [_short(n, 14) for n in names], rotation=30, ha="right")
    ax_v.set_ylim(0, 1)
    ax_v.set_ylabel("probability across samples")
    return save(fig, path)


def reliability_diagram(curves: dict[str, list[dict]], path, title: str = "reliability") -> Path:
    """Accuracy against confidence per bin, one line per method, the diagonal for reference."""
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    for label, bins in curves.items():
        pts = [(b["confidence"], b["accuracy"]) for b in bins if b["count"]]
        if pts:
            c, a = zip(*pts, strict=True)
            ax.plot(c, a, marker="o", label=label)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save(fig, path)


def embeddings(
    points: dict[str, np.ndarray], labels: np.ndarray, path, *, title: str = "PCA of test features"
) -> Path:
    """One 2-D scatter per feature space, coloured by class."""
    fig, axes = plt.subplots(1, len(points), figsize=(3.6 * len(points), 3.4), squeeze=False)
    for ax, (name, xy) in zip(axes[0], points.items(), strict=True):
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=6, alpha=0.8)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(sc, ax=axes[0].tolist(), fraction=0.02, label="class")
    fig.suptitle(title)
    return save(fig, path)


def curves_with_baselines(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    baselines: dict[str, float],
    xlabel: str,
    ylabel: str,
    path,
    *,
    baseline_colour: str | None = None,
) -> Path:
    """Lines with markers (x, y per name) and horizontal dashed baselines in the same colours
    (or all in `baseline_colour`, for a threshold that belongs to no series)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, (xs, ys)) in enumerate(series.items()):
        ax.plot(xs, ys, marker="o", ms=3, color=colours[i % len(colours)], label=label)
    for i, (label, y) in enumerate(baselines.items()):
        colour = baseline_colour or colours[i % len(colours)]
        ax.axhline(y, ls="--", lw=1, color=colour, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))  # off the lines
    ax.grid(alpha=0.3)
    return save(fig, path)
