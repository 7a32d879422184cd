"""What the report runs for Problem 2 (the report's own file only renders): VGG16 on ImageNet
when its weights are present, else the demo (a VGG-style classifier trained on real handwritten
digits); its inputs checked before the first step, its estimate for the report's plan, and the
computation (convlens.problem2: one setup, one step sequence)."""

from __future__ import annotations

from pathlib import Path

from convlens.data.problem2 import load_problem2
from convlens.errors import ConvlensError
from convlens.fingerprint import fingerprint
from convlens.models import vgg16
from convlens.models.weights import load_weights, resolve_checkpoint
from convlens.problem2.answers import Problem2Results
from convlens.problem2.estimate import demo_estimate, pass_seconds, problem2_seconds
from convlens.problem2.run import run_problem2
from convlens.problem2.setup import demo_setup, imagenet_setup, sizes


def _weights_path(ctx) -> tuple[Path | None, str]:
    try:
        return resolve_checkpoint(ctx.weights or "vgg16", download=False), ""
    except ConvlensError as exc:
        return None, str(exc)


def settings(ctx) -> dict:
    path, _ = _weights_path(ctx)
    return {
        "weights": str(path) if path else None,
        "weights_content": fingerprint(path),
        "problem2": str(ctx.problem2),
        "problem2_content": fingerprint(ctx.problem2),
    }


RESULTS = Problem2Results  # what compute returns and the cache reads back


def compute(ctx, key: str, draw=None) -> Problem2Results:
    """The section's record; `draw` (the report's convlens.figures.problem2.draw_problem2)
    draws its figures from the setup's images and names them in the record."""
    path, missing = _weights_path(ctx)
    if path is None:
        ctx.step("problem2: training the digits demo classifier (no VGG16 weights found)")
        setup = demo_setup(ctx.problem2, ctx.seed, sizes("demo", ctx.quick), missing)
    else:
        model = load_weights(vgg16(init_weights=False), path).eval()
        setup = imagenet_setup(model, ctx.problem2, ctx.seed, sizes("imagenet", ctx.quick))
        setup.info["weights"] = str(path)
    results = run_problem2(setup, seed=ctx.seed, step=ctx.step, csv=ctx.out / "predictions.csv")
    if draw is None:
        return results
    return draw(results, setup.images, setup.display, setup.names, ctx.figures, setup.prefix)


def check(ctx) -> None:
    """Open and check the section's inputs before the report's first step."""
    if ctx.problem2:
        p2 = load_problem2(ctx.problem2)
        if not p2.test:
            raise ConvlensError(f"{ctx.problem2}: test_images/ holds no images")


def estimate(ctx, key: str) -> dict[str, float]:
    """Seconds each step is expected to take on this machine, from timed passes of the section's
    own architecture (random weights: the time does not depend on them) and each step's passes."""
    path, _ = _weights_path(ctx)
    if path is not None:
        model = vgg16().eval()
        setup = imagenet_setup(model, ctx.problem2, ctx.seed, sizes("imagenet", ctx.quick))
        shape = tuple(setup.images.shape[1:])
        forward, backward = pass_seconds(model, shape, batch=2)
        viz = setup.runtime.resolved_precision  # the class models' passes
        viz_backward = None
        if viz != "fp32":
            viz_backward = pass_seconds(model, shape, batch=2, precision=viz)[1]
        return problem2_seconds(
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
        )
    return demo_estimate(sizes("demo", ctx.quick))
