"""Problem 3's inputs for the report, read and checked once (`check` -> `Loaded`): the exam's two
files, or the demo's puzzles cut from photographs; the sizes of the demo and the quick report;
each network's recipe for the images' size; where Problem 3 computes."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convlens.demo.normal_data import digit_study_data
from convlens.demo.photo_probe import photo_study_data
from convlens.errors import ConvlensError
from convlens.jigsaw.networks.catalogue import NETWORKS
from convlens.jigsaw.puzzle.data import NpzData, load_npz
from convlens.jigsaw.training.config import check_images
from convlens.jigsaw.training.recipes import recipe
from convlens.problem3.deshuffle import labelled_test, labelled_train
from convlens.problem3.probe import check_probe_data
from convlens.runtime import Runtime
from convlens.sections import ReportContext


# What the report trains, per mode: the training set sizes of the demo (puzzles for training,
# puzzles for testing, probe crops per photograph for training and testing), and the epochs each
# network needs on that data to clear its bar (the exam's data: convlens.problem3.budget). The
# budget is their sum at the speed measured on this machine, or `--minutes` in all, shared by
# need. The quick report trains one epoch of each. Measured with `make report` on a fresh clone
# held to AVX2 (docs/experiments.md): 4,000 puzzles rather than 2,000 took the CFN from 0.460 to
# 0.55; VGG-11-BN read 0.56-0.71 after 15-21 epochs and 0.755 after 30 (13.6 min in all).
@dataclass(frozen=True)
class Sizes:
    """How much Problem 3 does in one kind of report (the full one or the quick one)."""

    demo_puzzles: tuple[int, int]  # the demo's training and test puzzles
    demo_crops: tuple[int, int]  # the demo probe's crops per photograph, training and test
    digits: tuple[int, int] | None  # the digits study's training and test images (None: all)
    epochs: int | None  # every network's epochs (None: its recipe's, planned by the budget)


SIZES = {
    "full": Sizes((4000, 400), (30, 10), None, None),
    "quick": Sizes((300, 96), (8, 4), (300, 96), 1),
}
DEMO_NEEDED = {name: spec.demo_epochs for name, spec in NETWORKS.items()}
K = 3  # the probe's neighbours


def sizes(quick: bool) -> Sizes:
    return SIZES["quick" if quick else "full"]


def recipes_for(ctx: ReportContext, side: int = 96) -> dict:
    """Each network's recipe for images of `side` pixels, with the report's seed (and the
    quick report's epochs)."""
    epochs = sizes(ctx.quick).epochs
    extra = {"epochs": epochs} if epochs else {}
    return {name: recipe(name, side, seed=ctx.seed, **extra) for name in ctx.networks}


def _demo_data(ctx: ReportContext) -> tuple[NpzData, NpzData]:
    size = sizes(ctx.quick)
    extra = problem2_photographs(ctx.problem2)
    return photo_study_data([], *size.demo_puzzles, *size.demo_crops, seed=ctx.seed, extra=extra)


def problem2_photographs(path) -> dict[str, np.ndarray]:
    """The exam's problem2 photographs (validation and test, from its folder or its zip) by
    file name, for the demo's puzzles: with the 12 bundled photographs alone, its networks
    learn the few training photographs and do not generalise (docs/benchmarks.md)."""
    if path is None:
        return {}
    from convlens.data.images import read_image
    from convlens.data.problem2 import load_problem2

    p2 = load_problem2(path)
    return {
        Path(it.name).name: np.asarray(read_image(it).convert("RGB"))
        for it in [*p2.validation, *p2.test]
    }


@dataclass
class Loaded:
    """Problem 3's inputs, read and checked once: the exam's two files, or the demo's puzzles
    cut from photographs (made when first needed: a section read from the cache never needs
    them), and each network's recipe for their image size."""

    ctx: ReportContext
    exam: tuple[NpzData, NpzData] | None

    @property
    def mode(self) -> str:
        return "exam" if self.exam else "demo"

    @functools.cached_property
    def data(self) -> tuple[NpzData, NpzData]:
        """(the puzzles, the probe's labelled images)."""
        return self.exam or _demo_data(self.ctx)

    @functools.cached_property
    def configs(self) -> dict:
        shuffled = self.data[0]
        side = shuffled.train.images.shape[-1] if shuffled.train is not None else 96
        return recipes_for(self.ctx, side)

    @functools.cached_property
    def digits(self) -> tuple[NpzData, NpzData]:
        """The demo's digits study's puzzles and probe images."""
        return digit_study_data(limit=sizes(self.ctx.quick).digits, seed=self.ctx.seed)


def check(ctx: ReportContext) -> Loaded:
    """Open and check the section's inputs before the report's first step: both files read and
    validated, with labelled puzzles to train on, test orders to evaluate and classes to probe."""
    if not ctx.problem3:
        return Loaded(ctx, None)
    shuffled = load_npz(ctx.problem3, "DataShuffled.npz", kind="orders")
    normal = load_npz(ctx.problem3, "DataNormal.npz", kind="classes")
    # the doors of the steps that will use them, before the first step runs
    labelled_train(shuffled)
    labelled_test(shuffled)
    check_probe_data(normal, k=K)
    _same_size(shuffled, normal)
    loaded = Loaded(ctx, (shuffled, normal))
    for cfg in loaded.configs.values():  # each network built for these images
        check_images(shuffled.train.images, cfg.model, shuffled.source)
    return loaded


def _same_size(shuffled: NpzData, normal: NpzData) -> None:
    """The probe reads the networks trained on the puzzles: its images need their size."""
    side = tuple(shuffled.train.images.shape[-2:])
    for part in (normal.train, normal.test):
        found = tuple(part.images.shape[-2:])
        if found != side:
            raise ConvlensError(
                f"{normal.source}: images are {found[0]} x {found[1]} px but {shuffled.source}'s "
                f"are {side[0]} x {side[1]}; the probe reads the features of the networks "
                "trained on the puzzles, so both files need one size"
            )


def report_runtime(ctx: ReportContext) -> Runtime:
    """Where Problem 3 computes: the report's --device, with progress bars; its probe reads
    features in fp32, and each network trains and scores in its own run's precision."""
    return Runtime.of(ctx.device, progress=True)
