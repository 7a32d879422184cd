"""`convlens evaluate` and `convlens classify`: ImageNet VGG16 (Problem 2b, 2d)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from convlens import classification, plotting
from convlens.cli import print_json
from convlens.cli.options import add_model, add_output, add_seed
from convlens.data import (
    image_folder,
    imagenet_classes,
    list_image_files,
    load_problem2,
    read_image,
)
from convlens.data.transforms import center_crop, resize_shorter
from convlens.errors import ConvlensError
from convlens.models.pretrained import pretrained
from convlens.runtime import resolve_device, seed_everything
from convlens.tables import format_table


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
    p.add_argument("--topk", type=int, default=5)
    add_model(p)
    add_output(p)
    add_seed(p)
    p.set_defaults(func=run_classify)


def load_model(args):
    seed_everything(args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = pretrained(args.arch, args.weights, seed=args.seed)
    if args.weights == "random":
        print("note: random weights, predictions carry no meaning", file=sys.stderr)
    return model


def labelled_items(data: Path):
    if data.is_file() or (data / "val.txt").exists():
        p2 = load_problem2(data)
        return p2.validation, p2.names
    return image_folder(data), list(imagenet_classes().names)


def _infer_kwargs(args) -> dict:
    return {
        "batch_size": args.batch_size,
        "device": resolve_device(args.device),
        "precision": args.precision,
    }


def run_evaluate(args) -> int:
    items, names = labelled_items(args.data)
    model = load_model(args)
    result = classification.evaluate(model, items, names, **_infer_kwargs(args))
    if args.out:
        classification.write_predictions_csv(result["rows"], args.out / "predictions.csv")
    if args.json:
        print_json(result)
        return 0
    print(f"top-1 accuracy: {result['top1']:.4f} ({result['top1_correct']}/{result['n']})")
    print(f"top-5 accuracy: {result['top5']:.4f} ({result['top5_correct']}/{result['n']})")
    print(f"misclassified (top-1): {len(result['misclassified'])}")
    for f in result["misclassified"]:
        print("  " + f)
    return 0


def run_classify(args) -> int:
    if args.topk < 1:
        raise ConvlensError(f"--topk must be >= 1, got {args.topk}")
    items = list_image_files(args.images)
    names = list(imagenet_classes().names)
    model = load_model(args)
    results = classification.classify(model, items, names, k=args.topk, **_infer_kwargs(args))
    if args.out:
        for i, (item, r) in enumerate(zip(items, results, strict=True)):
            img = center_crop(resize_shorter(read_image(item), 256), 224)
            plotting.image_with_topk(
                np.asarray(img) / 255.0,
                [t["name"] for t in r["top"]],
                [t["prob"] for t in r["top"]],
                Path(item.name).name,
                args.out / f"classify_{i:03d}_{Path(item.name).stem}.png",
            )
    if args.json:
        print_json(results)
        return 0
    for r in results:
        print(f"\n{r['file']}")
        print(format_table([{"rank": j + 1, **t} for j, t in enumerate(r["top"])]))
    return 0
