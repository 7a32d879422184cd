"""`convlens report`: the main job."""

import argparse
from pathlib import Path

from convlens.cli.model_options import add_user_model, preprocessing_of
from convlens.cli.options import add_seed, amount, out_folder
from convlens.errors import ConvlensError
from convlens.handin import pack
from convlens.jigsaw.training.recipes import NETWORKS
from convlens.report import ReportContext, build_report


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="build the full report (HTML, PDF, results.json, figures)",
        description="Run every problem whose inputs are present (the built-in demo otherwise), "
        "reusing cached results, and write report.html, report.pdf, results.json and figures.",
    )
    p.add_argument("--out", type=out_folder, default=Path("report"), help="output folder")
    p.add_argument("--problem2", type=Path, default=None, help="problem2 folder or zip")
    p.add_argument("--problem3", type=Path, default=None, help="problem3 folder or zip")
    p.add_argument(
        "--weights",
        default=None,
        help="VGG16 weights file (default: torchvision's vgg16 in the torch cache), or your "
        "--model's",
    )
    p.add_argument("--quick", action="store_true", help="tiny settings, for a smoke test")
    p.add_argument(
        "--device",
        default="auto",
        help="device for Problem 3 training and inference (auto, cpu, cuda:N)",
    )
    p.add_argument(
        "--networks",
        type=network_list,
        default=NETWORKS,
        metavar="A,B,...",
        help=f"de-shuffling networks Problem 3 trains, side by side (default: "
        f"{','.join(NETWORKS)}; the first gives the detailed figures)",
    )
    p.add_argument(
        "--minutes",
        type=amount(24 * 60.0),
        default=None,
        help="Problem 3's training budget in minutes, for all networks together, shared by "
        "need; a network that stops early hands its time on (default: the epochs each network "
        "needs at the speed measured on this machine; the report prints its plan first)",
    )
    add_user_model(p.add_argument_group("your own classifier for Problem 2, instead of VGG16"))
    add_seed(p)
    p.set_defaults(func=run)

    h = sub.add_parser(
        "handin",
        help="pack homeexam_candidateXX.zip (doc/ with the PDF, src/ with the source)",
        description="Pack the exam hand-in: doc/report.pdf and the source code under src/.",
    )
    h.add_argument("--candidate", required=True, help="candidate number, e.g. 17")
    h.add_argument("--report", type=Path, default=Path("report"), help="report folder")
    h.add_argument("--out", type=out_folder, default=Path("."), help="where to write the zip")
    add_seed(h)
    h.set_defaults(func=run_handin)


def network_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in NETWORKS]
    if not names or unknown or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"expected distinct names from {','.join(NETWORKS)}, got {text!r}"
        )
    return names


def run(args) -> int:
    if not args.model:  # the user model's options mean nothing for VGG16 or the demo
        given = [
            flag
            for flag, value in (
                ("--classes", args.class_names),
                ("--mean", args.mean),
                ("--std", args.std),
                ("--input-size", args.input_size if args.input_size != 224 else None),
            )
            if value is not None
        ]
        if given:
            raise ConvlensError(
                f"report: {', '.join(given)} describe --model's classifier; give --model too"
            )
    for name in ("problem2", "problem3"):
        path = getattr(args, name)
        if path is not None and not path.exists():
            raise ConvlensError(f"--{name}: {path} does not exist")
    ctx = ReportContext(
        out=args.out,
        seed=args.seed,
        problem2=args.problem2,
        problem3=args.problem3,
        weights=args.weights,
        quick=args.quick,
        device=args.device,
        networks=args.networks,
        minutes=args.minutes,
        model=args.model,
        class_names=args.class_names,
        preprocessing=preprocessing_of(args) if args.model else None,
    )
    built = build_report(ctx)
    for kind, path in built.paths.items():
        print(f"{kind}: {path}")
    return 0


def run_handin(args) -> int:
    print(pack(args.candidate, args.report / "report.pdf", args.out))
    return 0
