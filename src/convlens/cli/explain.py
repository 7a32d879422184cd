"""`convlens saliency | guided-backprop | class-viz | explain-eval` (Problem 2a, 2c, 2e, 2f)."""

from __future__ import annotations

from pathlib import Path

from convlens.cli.model_options import (
    add_model,
    class_names_of,
    images_of,
    model_from,
    preprocessing_of,
    targets_of,
)
from convlens.cli.options import (
    MAX_CLASSES,
    MAX_CURVE_POINTS,
    MAX_SIDE,
    MAX_SMOOTHGRAD,
    MAX_STEPS,
    add_output,
    add_seed,
    amount,
    count,
    image_side,
    print_json,
    runtime_of,
)
from convlens.data import denormalize
from convlens.data.images import list_image_files
from convlens.data.transforms import normalized_bounds
from convlens.explain.attributions import METHODS
from convlens.explain.guided_backprop import check_guidable
from convlens.explain.quality import EXAM_METHODS, explanation_quality
from convlens.figures.problem2 import (
    class_models_figure,
    deletion_insertion_figures,
    maps_figure,
)
from convlens.problem2 import class_models, saliency_and_guided_backprop
from convlens.problem2.class_models import chosen_classes
from convlens.tables import format_table


def register(sub) -> None:
    for name, helptext in [
        ("saliency", "class saliency maps (Simonyan et al. 2013, section 3.1)"),
        ("guided-backprop", "guided backpropagation maps (Springenberg et al. 2014)"),
    ]:
        p = sub.add_parser(
            name,
            help=helptext,
            description=f"{helptext[0].upper()}{helptext[1:]} for the predicted class (or "
            "--target) of each image; with --out, a figure per image beside both maps.",
        )
        p.add_argument("images", nargs="+", type=Path, help="image files or folders")
        p.add_argument(
            "--target",
            type=count(0, MAX_CLASSES - 1),
            default=None,
            help="class id (default: predicted)",
        )
        if name == "saliency":
            p.add_argument(
                "--smoothgrad",
                type=count(0, MAX_SMOOTHGRAD, "noisy copies; 0 is the plain gradient"),
                default=0,
                metavar="N",
                help="average over N noisy copies (SmoothGrad); 0 = plain gradient",
            )
        add_model(p)
        add_output(p)
        add_seed(p)
        p.set_defaults(func=run_maps, method=name)

    p = sub.add_parser(
        "class-viz",
        help="class model visualisations, with and without Gaussian blur every k steps",
        description="Gradient ascent on the unnormalised class score from the zero image "
        "(Simonyan et al. 2013, section 2) with Yosinski et al.'s regularisers. All classes are "
        "optimised together as one batch, once without and once with blurring.",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--classes", type=count(0, MAX_CLASSES - 1), nargs="+", help="class ids")
    g.add_argument(
        "--random",
        type=count(1, MAX_CLASSES),
        default=3,
        metavar="N",
        help="N classes drawn with --seed (default 3)",
    )
    p.add_argument("--steps", type=count(1, MAX_STEPS), default=150)
    p.add_argument("--lr", type=amount(100.0), default=0.1)
    p.add_argument(
        "--l2", type=amount(1e3, zero=True), default=1e-3, help="lambda of the ||I||^2 penalty"
    )
    p.add_argument("--blur-every", type=count(1, MAX_STEPS), default=5, metavar="K")
    p.add_argument("--blur-sigma", type=amount(64.0), default=1.0)
    p.add_argument("--jitter", type=count(0, MAX_SIDE // 4, "pixels"), default=0)
    p.add_argument("--size", type=image_side, default=224, help="image side, >= 32 (default 224)")
    add_model(p, names_flag="--class-names")
    add_output(p)
    add_seed(p)
    p.set_defaults(func=run_class_viz)

    p = sub.add_parser(
        "explain-eval",
        help="deletion/insertion areas and the randomisation sanity check",
        description="Deletion and insertion curves (Petsiuk et al. 2018) for saliency and guided"
        " backprop against a random map, and cascading parameter randomisation "
        "(Adebayo et al. 2018): Spearman correlation of maps as layers are re-initialised.",
    )
    p.add_argument("images", nargs="+", type=Path, help="image files or folders")
    p.add_argument(
        "--steps", type=count(1, MAX_CURVE_POINTS), default=24, help="points on each curve"
    )
    p.add_argument(
        "--layers",
        type=count(1, MAX_CLASSES),
        default=None,
        help="randomise at most this many layers",
    )
    p.add_argument(
        "--methods",
        type=method_list,
        default=None,
        metavar="A,B,...",
        help=f"check these methods instead of the exam's two ({','.join(METHOD_FLAGS)}, or all)",
    )
    add_model(p)
    add_output(p)
    add_seed(p)
    p.set_defaults(func=run_eval)


METHOD_FLAGS = {name.replace(" ", "-"): name for name in METHODS}


def method_list(text: str) -> list[str]:
    import argparse

    names = list(METHOD_FLAGS) if text == "all" else [t.strip() for t in text.split(",")]
    unknown = [n for n in names if n not in METHOD_FLAGS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"expected names from {','.join(METHOD_FLAGS)} (or all), got {text!r}"
        )
    return [METHOD_FLAGS[n] for n in names]


def _batch_and_targets(args):
    items = list_image_files(args.images)
    model = model_from(args)  # already on --device
    if getattr(args, "method", None) == "guided-backprop":
        check_guidable(model, (3, args.input_size, args.input_size))
    x, _ = images_of(args, items, next(model.parameters()).device)
    return items, model, x, targets_of(args, model, x)


def run_maps(args) -> int:
    items, model, x, targets = _batch_and_targets(args)
    r = saliency_and_guided_backprop(
        model,
        x,
        targets,
        [Path(it.name).name for it in items],
        class_names_of(args, model),
        smoothgrad=getattr(args, "smoothgrad", 0),
        batch_size=args.batch_size,
        seed=args.seed,
        runtime=runtime_of(args),
    )
    if args.out:
        maps_figure(r, images_of(args, items)[1](x), args.out / f"{args.method}.png")
    if args.json:
        print_json(r.rows)
    else:
        print(format_table(r.rows))
    return 0


def run_class_viz(args) -> int:
    model = model_from(args)
    names = class_names_of(args, model)
    prep = preprocessing_of(args)
    shape = (3, args.size, args.size)
    classes, num_classes = chosen_classes(model, shape, args.classes, args.random, args.seed)
    label = names if num_classes == len(names) else [str(c) for c in range(num_classes)]
    r = class_models(
        model,
        classes,
        shape,
        label,
        blur_every=args.blur_every,
        seed=args.seed,
        runtime=runtime_of(args),
        steps=args.steps,
        lr=args.lr,
        l2=args.l2,
        blur_sigma=args.blur_sigma,
        jitter=args.jitter,
        clamp=normalized_bounds(prep.mean, prep.std),
    )
    if args.out:
        shown = lambda t: denormalize(t, prep.mean, prep.std)  # noqa: E731
        class_models_figure(r, shown, args.out / "class_viz.png")
    columns = ["class_id", "name", "prob_no_blur", "prob_blur", "steps_to_0.9_blur"]
    if args.json:
        print_json({"classes": r.classes, "seconds": r.seconds})
    else:
        print(format_table(r.classes, columns))
        print(f"time: {r.seconds:.1f} s for both variants")
    return 0


def run_eval(args) -> int:
    _, model, x, targets = _batch_and_targets(args)
    q = explanation_quality(
        model,
        x,
        targets,
        args.methods or EXAM_METHODS,
        steps=args.steps,
        max_layers=args.layers,
        seed=args.seed,
        runtime=runtime_of(args),
    )
    if args.out:
        deletion_insertion_figures(q, args.out)
    if args.json:
        print_json({"checks": q.checks, "layers_randomised": q.layers})
    else:
        print(format_table(q.area_rows()))
        print(
            "\nSpearman correlation with the trained model's maps, layers randomised from the top:"
        )
        print(format_table(q.randomisation_rows()))
    return 0
