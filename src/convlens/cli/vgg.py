"""`convlens evaluate` and `convlens classify`: ImageNet VGG16 (Problem 2b, 2d)."""

from __future__ import annotations

from pathlib import Path

from convlens.cli.model_options import (
    add_model,
    class_names_of,
    images_of,
    model_from,
    preprocessing_of,
)
from convlens.cli.options import MAX_CLASSES, add_output, add_seed, count, print_json, runtime_of
from convlens.data import (
    list_image_files,
)
from convlens.data.problem2 import labelled_items
from convlens.figures.problem2 import top5_figures
from convlens.problem2 import top5, validation_accuracy
from convlens.record import to_json
from convlens.tables import as_rows, format_table


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="top-1/top-5 accuracy of an ImageNet classifier on a labelled set",
        description="Evaluate on the exam's problem2 folder or zip (val.txt + validation_images/)"
        " or on an ImageFolder tree of synset folders. Writes predictions.csv with --out.",
    )
    p.add_argument("data", type=Path, help="problem2 folder, problem2.zip, or synset-folder tree")
    add_model(p)
    add_output(p)
    add_seed(p)
    p.set_defaults(func=run_evaluate)

    p = sub.add_parser(
        "classify",
        help="top-k ImageNet predictions for images",
        description="Top-k classes with softmax probabilities for each image (files or folders);"
        " with --out, a figure per image (the image beside a bar chart of its top-k).",
    )
    p.add_argument("images", nargs="+", type=Path, help="image files or folders")
    p.add_argument("--topk", type=count(1, MAX_CLASSES), default=5)
    add_model(p)
    add_output(p)
    add_seed(p)
    p.set_defaults(func=run_classify)


def run_evaluate(args) -> int:
    items, names = labelled_items(args.data)
    model = model_from(args)
    csv = args.out / "predictions.csv" if args.out else None
    r = validation_accuracy(
        model,
        items,
        names,
        csv=csv,
        batch_size=args.batch_size,
        runtime=runtime_of(args),
        transform=preprocessing_of(args),
    )
    if args.json:
        print_json({**to_json(r), "rows": r.rows})
        return 0
    print(f"top-1 accuracy: {r.top1:.4f} ({r.top1_correct}/{r.n})")
    print(f"top-5 accuracy: {r.top5:.4f} ({r.top5_correct}/{r.n})")
    print(f"misclassified (top-1): {len(r.misclassified)}")
    for f in r.misclassified:
        print("  " + f)
    return 0


def run_classify(args) -> int:
    items = list_image_files(args.images)
    model = model_from(args)
    names = class_names_of(args, model)
    images, shown = images_of(args, items)
    result = top5(
        model,
        images,
        [it.name for it in items],
        names,
        k=args.topk,
        batch_size=args.batch_size,
        runtime=runtime_of(args),
    )
    if args.out:
        top5_figures(result.rows, shown(images), args.out, prefix="classify")
    if args.json:
        print_json(result.rows)
        return 0
    for r in result.rows:
        print(f"\n{r.image}")
        print(format_table([{"rank": j + 1, **t} for j, t in enumerate(as_rows(r.top))]))
    return 0
