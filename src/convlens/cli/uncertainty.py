"""`convlens uncertainty` and `convlens calibration` (Problem 2g, 2h)."""

from __future__ import annotations

from pathlib import Path

import torch

from convlens.cli.model_options import add_model, class_names_of, images_of, model_from
from convlens.cli.options import add_output, add_seed, mc_samples, print_json, runtime_of
from convlens.data.images import list_image_files
from convlens.data.problem2 import labelled_items
from convlens.figures.problem2 import reliability_figure, uncertainty_figures
from convlens.problem2 import mc_dropout_rows
from convlens.runtime import resolve_device
from convlens.tables import format_table
from convlens.uncertainty.calibration import calibration_report


def register(sub) -> None:
    p = sub.add_parser(
        "uncertainty",
        help="Monte Carlo dropout uncertainty per image",
        description="Run T forward passes with dropout on (the convolutional prefix once, the "
        "stochastic head T times) and report per image the top-5 of the predictive mean with "
        "+- std, predictive entropy, mutual information and the dropout-off prediction.",
    )
    p.add_argument("images", nargs="+", type=Path, help="image files or folders")
    p.add_argument(
        "--samples", type=mc_samples, default=50, metavar="T", help="MC samples, >= 2 (default 50)"
    )
    add_model(p)
    add_output(p)
    add_seed(p)
    p.set_defaults(func=run_uncertainty)

    p = sub.add_parser(
        "calibration",
        help="accuracy, NLL, Brier and ECE: deterministic vs MC dropout",
        description="On a labelled set (problem2 folder/zip or synset-folder tree): accuracy, "
        "NLL, Brier score and ECE (15 bins) with dropout off and with MC dropout, a reliability "
        "diagram, and how well uncertainty detects errors (AUROC).",
    )
    p.add_argument("data", type=Path)
    p.add_argument("--samples", type=mc_samples, default=30, metavar="T")
    add_model(p)
    add_output(p)
    add_seed(p)
    p.set_defaults(func=run_calibration)


def run_uncertainty(args) -> int:
    items = list_image_files(args.images)
    device = resolve_device(args.device)
    model = model_from(args)
    names = class_names_of(args, model)
    x, shown = images_of(args, items, device)
    files = [Path(it.name).name for it in items]
    r = mc_dropout_rows(
        model,
        x,
        files,
        names,
        samples=args.samples,
        seed=args.seed,
        runtime=runtime_of(args),
    )
    if args.out:
        uncertainty_figures(r, shown(x), names, args.out, "uncertainty")
    if args.json:
        print_json({"samples": r.samples, "path": r.path, "notes": r.notes, "images": r.images})
        return 0
    for row in r.images:
        top1 = row.deterministic_top1
        print(
            f"\n{row.image}: entropy {row.predictive_entropy:.3f} nats, mutual "
            f"information {row.mutual_information:.3f}, dropout off: "
            f"{top1.name} ({top1.prob:.3f})"
        )
        print(format_table([{"name": t.name, "prob": t.prob, "+-std": t.std} for t in row.top]))
    for note in r.notes:
        print("note:", note)
    return 0


def run_calibration(args) -> int:
    items, _ = labelled_items(args.data)
    device = resolve_device(args.device)
    model = model_from(args)
    x, _ = images_of(args, items, device)
    labels = torch.tensor([it.label for it in items]).numpy()
    rep = calibration_report(
        model, x, labels, samples=args.samples, seed=args.seed, runtime=runtime_of(args)
    )
    if args.out:
        reliability_figure(rep, args.out / "reliability.png")
    if args.json:
        print_json(rep)
        return 0
    print(format_table(rep.metric_rows()))
    print("\nuncertainty as an error detector (MC dropout):")
    print(format_table(rep.detection_rows()))
    return 0
