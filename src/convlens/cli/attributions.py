"""`convlens grad-cam | guided-grad-cam | integrated-gradients | occlusion`: the attribution
methods practitioners use most, on any classifier (--arch or your own --model)."""

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
from convlens.cli.options import MAX_CLASSES, add_output, add_seed, amount, count, print_json
from convlens.data.images import list_image_files
from convlens.errors import ConvlensError
from convlens.explain.attributions import METHODS, attribution_map
from convlens.explain.grad_cam import check_layer
from convlens.explain.guided_backprop import check_guidable
from convlens.figures.problem2 import attribution_figure
from convlens.tables import format_table

COMMANDS = {
    "grad-cam": ("grad-cam", "Grad-CAM of a layer, upsampled to the image (Selvaraju et al. 2017)"),
    "guided-grad-cam": ("guided grad-cam", "guided backpropagation times Grad-CAM"),
    "integrated-gradients": (
        "integrated gradients",
        "Integrated Gradients from a black or blurred baseline (Sundararajan et al. 2017), with "
        "each image's completeness error",
    ),
    "occlusion": ("occlusion", "the score's drop as a window slides over the image"),
}


def register(sub) -> None:
    for command, (method, helptext) in COMMANDS.items():
        p = sub.add_parser(command, help=helptext, description=f"{helptext}; one map per image.")
        p.add_argument("images", nargs="+", type=Path, help="image files or folders")
        p.add_argument(
            "--target",
            type=count(0, MAX_CLASSES - 1),
            default=None,
            help="class id (default: predicted)",
        )
        if "grad-cam" in command:
            p.add_argument("--layer", default=None, help="a layer's name (default: the last conv)")
        if command == "integrated-gradients":
            p.add_argument("--steps", type=count(1, 1024), default=32, help="path intervals")
            p.add_argument("--baseline", choices=("black", "blurred"), default="black")
        if command == "occlusion":
            p.add_argument("--window", type=count(1, 1024, "pixels"), default=16)
            p.add_argument("--stride", type=count(1, 1024, "pixels"), default=8)
            p.add_argument("--value", type=amount(1e3, zero=True), default=0.0, help="fill value")
        add_model(p)
        add_output(p)
        add_seed(p)
        p.set_defaults(func=run_attribution, method=method, command=command)


def _settings(args, prep) -> dict:
    if args.command.endswith("grad-cam"):
        return {"layer": args.layer}
    if args.command == "integrated-gradients":
        import torch

        black = torch.tensor([(0 - m) / s for m, s in zip(prep.mean, prep.std, strict=True)])
        return {"steps": args.steps, "baseline": args.baseline, "black": black}
    return {"window": args.window, "stride": args.stride, "baseline": args.value}


def run_attribution(args) -> int:
    if args.command == "occlusion" and args.window > args.input_size:
        raise ConvlensError(
            f"--window {args.window}: larger than the {args.input_size} px image (--input-size)"
        )
    items = list_image_files(args.images)
    model = model_from(args)
    names = class_names_of(args, model)
    if args.command.endswith("grad-cam"):  # a layer it cannot read is refused before any work
        check_layer(model, args.layer, (3, args.input_size, args.input_size))
    if args.command == "guided-grad-cam":
        check_guidable(model, (3, args.input_size, args.input_size))
    device = next(model.parameters()).device
    x, shown = images_of(args, items, device)
    targets = targets_of(args, model, x)
    maps = METHODS[args.method](model, x, targets, **_settings(args, preprocessing_of(args)))
    strength = attribution_map(maps)
    rows = [
        {
            "image": Path(it.name).name,
            "class_id": int(t),
            "name": names[int(t)],
            "max": float(m.max()),
        }
        for it, t, m in zip(items, targets, strength, strict=True)
    ]
    if args.out:
        attribution_figure(shown(x), strength, rows, args.method, args.out / f"{args.command}.png")
    if args.json:
        print_json(rows)
    else:
        print(format_table(rows))
    return 0
