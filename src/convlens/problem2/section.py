"""What the report runs for Problem 2 (the report's own file only renders): VGG16 on ImageNet
when its weights are present, else the demo (a VGG-style classifier trained on real handwritten
digits); its inputs read and checked once before the first step, its estimate for the report's
plan, and the computation (convlens.problem2: one setup, one step sequence)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from convlens.data.problem2 import Problem2, load_problem2
from convlens.errors import ConvlensError
from convlens.fingerprint import fingerprint
from convlens.models import vgg16
from convlens.models.user_model import Preprocessing
from convlens.models.weights import load_weights, resolve_checkpoint
from convlens.problem2.answers import Problem2Results
from convlens.problem2.estimate import demo_estimate, pass_seconds, problem2_seconds
from convlens.problem2.run import run_problem2
from convlens.problem2.setup import demo_setup, imagenet_setup, sizes, user_setup
from convlens.sections import Plan, ReportContext


def _weights_path(ctx: ReportContext) -> tuple[Path | None, str]:
    try:
        return resolve_checkpoint(ctx.weights or "vgg16", download=False), ""
    except ConvlensError as exc:
        return None, str(exc)


def settings(ctx: ReportContext) -> dict:
    if ctx.model:
        return _user_settings(ctx)
    path, _ = _weights_path(ctx)
    return {
        "weights": str(path) if path else None,
        "weights_content": fingerprint(path),
        "problem2": str(ctx.problem2),
        "problem2_content": fingerprint(ctx.problem2),
    }


def _user_settings(ctx: ReportContext) -> dict:
    """What keys a user model's section: its code's file (when --model names one), weights,
    class names and preprocessing, by content."""
    where = ctx.model.rpartition(":")[0]
    prep = ctx.preprocessing or Preprocessing()
    return {
        "model": ctx.model,
        "model_content": fingerprint(Path(where)) if where.endswith(".py") else None,
        "weights_content": fingerprint(Path(ctx.weights)) if ctx.weights else None,
        "classes_content": fingerprint(ctx.class_names),
        "preprocessing": [prep.input_size, list(prep.mean), list(prep.std)],
        "problem2": str(ctx.problem2),
        "problem2_content": fingerprint(ctx.problem2),
    }


RESULTS = Problem2Results  # what compute returns and the cache reads back


@dataclass(frozen=True)
class Loaded:
    """Problem 2's inputs, read and checked once: the exam's folder (or None), and the VGG16
    weights' file (None, with the reason, where there are none: the demo runs)."""

    ctx: ReportContext
    problem2: Problem2 | None
    weights: Path | None
    missing: str
    user: nn.Module | None = None  # --model's classifier, its weights loaded
    names: list[str] | None = None  # its class names


def check(ctx: ReportContext) -> Loaded:
    """Open and check the section's inputs before the report's first step."""
    p2 = load_problem2(ctx.problem2) if ctx.problem2 else None
    if p2 is not None and not p2.test:
        raise ConvlensError(f"{ctx.problem2}: test_images/ holds no images")
    if ctx.model:
        model, names = _user_model(ctx)
        return Loaded(ctx, p2, None, "", model, names)
    path, missing = _weights_path(ctx)
    return Loaded(ctx, p2, path, missing)


def _user_model(ctx: ReportContext) -> tuple[nn.Module, list[str]]:
    """--model's classifier with --weights loaded (its own when none), and its class names
    (--classes, their count checked against its output; ImageNet's for 1000 scores; else ids)."""
    from convlens.models.user_model import user_class_names, user_classifier

    prep = ctx.preprocessing or Preprocessing()
    model = user_classifier(ctx.model, ctx.weights)
    return model, user_class_names(model, prep.input_size, ctx.class_names, imagenet_for_1000=True)


def estimate(loaded: Loaded, key: str) -> Plan:
    """Seconds each step is expected to take on this machine, from timed passes of the section's
    own architecture (random weights: the time does not depend on them) and each step's passes.
    The quick report, a smoke test, measures nothing."""
    ctx = loaded.ctx
    if ctx.quick:
        return Plan()
    if loaded.user is None and loaded.weights is None:
        return Plan(demo_estimate(sizes("demo", ctx.quick)))
    setup = _setup(loaded, model=None if loaded.user is not None else vgg16().eval())
    model = setup.model
    shape = tuple(setup.images.shape[1:])
    forward, backward = pass_seconds(model, shape, batch=2)
    viz = setup.runtime.resolved_precision  # the class models' passes
    viz_backward = None
    if viz != "fp32":
        viz_backward = pass_seconds(model, shape, batch=2, precision=viz)[1]
    return Plan(
        problem2_seconds(
            forward,
            backward,
            n_validation=len(setup.validation or []),
            n_test=len(setup.images),
            n_checked=len(setup.images),
            deletion_steps=setup.quality["steps"],
            randomised_layers=setup.quality["max_layers"],
            class_viz_images=2 * len(setup.classes),
            class_viz_steps=setup.class_viz["steps"],
            class_viz_backward=viz_backward,
            methods=setup.methods,
            method_settings=setup.method_settings,
            side=shape[-1],
        )
    )


def _setup(loaded: Loaded, model: nn.Module | None = None):
    """The steps' setup for VGG16 (`model`, or its weights loaded) or the user's model."""
    ctx = loaded.ctx
    if loaded.user is not None:
        prep = ctx.preprocessing or Preprocessing()
        size = sizes("imagenet", ctx.quick)
        return user_setup(
            loaded.user, ctx.model, loaded.names, prep, loaded.problem2, ctx.seed, size
        )
    if model is None:
        model = load_weights(vgg16(init_weights=False), loaded.weights).eval()
    setup = imagenet_setup(model, loaded.problem2, ctx.seed, sizes("imagenet", ctx.quick))
    setup.info["weights"] = str(loaded.weights)
    return setup


def compute(loaded: Loaded, plan: Plan, draw=None) -> Problem2Results:
    """The section's record; `draw` (the report's convlens.figures.problem2.draw_problem2)
    draws its figures from the setup's images and names them in the record."""
    ctx = loaded.ctx
    if loaded.user is None and loaded.weights is None:
        ctx.step("problem2: training the digits demo classifier (no VGG16 weights found)")
        setup = demo_setup(loaded.problem2, ctx.seed, sizes("demo", ctx.quick), loaded.missing)
    else:
        setup = _setup(loaded)
    results = run_problem2(setup, seed=ctx.seed, step=ctx.step, csv=ctx.out / "predictions.csv")
    if draw is None:
        return results
    return draw(results, setup.images, setup.display, setup.names, ctx.figures, setup.prefix)
