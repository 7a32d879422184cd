"""`convlens jigsaw train | evaluate | restore` (Problem 3a, 3b)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from convlens.cli.options import (
    add_device,
    add_seed,
    out_file,
    out_folder,
    print_json,
    runtime_from,
)
from convlens.cli.train_options import MODEL_FLAGS, TRAIN_FLAGS, add_training_options
from convlens.errors import ConvlensError
from convlens.figures.problem3 import EXAMPLES, examples_figure, restored_figure
from convlens.jigsaw.evaluation.scoring import METHODS
from convlens.jigsaw.networks.configs import refuse_foreign, with_settings
from convlens.jigsaw.puzzle.data import load_npz
from convlens.jigsaw.puzzle.permutations import NUM_PERMUTATIONS
from convlens.jigsaw.training.recipes import recipe
from convlens.problem3.deshuffle import evaluate_run, restore_images, run_training, write_restored
from convlens.record import to_json
from convlens.tables import format_table


def register(sub) -> None:
    p = sub.add_parser(
        "jigsaw",
        help="2x2 jigsaw de-shuffling: train, evaluate, restore",
        description="Problem 3: predict the order of four shuffled quarters.",
    )
    jsub = p.add_subparsers(dest="jigsaw_command", metavar="COMMAND", parser_class=type(p))
    jsub.required = True

    t = jsub.add_parser(
        "train",
        help="train the de-shuffling network",
        description="Train the de-shuffling network (EdgeNet by default, or VGG-11-BN) on "
        "DataShuffled.npz or problem3.zip;"
        " writes RUN/checkpoint.pt every epoch and RUN/best.pt (by validation "
        "image-level accuracy). --resume continues an interrupted run.",
    )
    t.add_argument("data", type=Path, help="DataShuffled.npz, or problem3.zip / its folder")
    t.add_argument("--out", type=out_folder, required=True, metavar="RUN", help="run folder")
    t.add_argument("--resume", action="store_true")
    add_training_options(t)
    add_device(t, precision_default="auto")
    add_seed(t)
    t.set_defaults(func=run_train)

    e = jsub.add_parser(
        "evaluate",
        help="image- and quarter-level accuracy of every method",
        description="On the labelled test split: the network, test-time "
        "augmentation over all 24 re-shuffles, the training-free seam score, and"
        " their combinations, side by side; a confusion matrix; a figure.",
    )
    e.add_argument("run", type=Path)
    e.add_argument("data", type=Path)
    e.add_argument("--no-tta", action="store_true", help="skip test-time augmentation (24x cost)")
    e.add_argument("--json", action="store_true")
    e.add_argument("--out", type=out_folder, default=None, help="folder for the examples figure")
    e.add_argument("--device", default="auto")
    add_seed(e)
    e.set_defaults(func=run_evaluate)

    r = jsub.add_parser(
        "restore",
        help="restore every image of an npz (labelled or not)",
        description="Predict each image's order, de-shuffle it, and write the "
        "exam's npz layout (a/c restored images, b/d predicted orders, b_prob/"
        "d_prob their probabilities).",
    )
    r.add_argument("run", type=Path)
    r.add_argument("input", type=Path)
    r.add_argument("--out", type=out_file, required=True, help="restored .npz")
    r.add_argument("--png", type=out_folder, default=None, help="folder for a contact sheet")
    r.add_argument("--method", choices=METHODS, default="network+seam")
    r.add_argument("--device", default="auto")
    add_seed(r)
    r.set_defaults(func=run_restore)


def run_train(args) -> int:
    data = load_npz(args.data)
    if data.train is None:
        raise ConvlensError(f"{data.source}: no training images (key 'a')")
    size = data.train.images.shape[-1]
    print(f"{data.source}: pixels {data.dtype_found}; {len(data.train.images)} training images")
    chosen = {k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k) is not None}
    base = recipe(args.arch, size)
    given = {k: v for k, v in chosen.items() if k in MODEL_FLAGS}
    refuse_foreign(args.arch, given, spell=lambda name: "--" + name.replace("_", "-"))
    model = with_settings(base.model, **given)
    cfg = replace(
        base,
        model=model,
        seed=args.seed,
        precision=args.precision,
        workers=args.workers,
        **{k: v for k, v in chosen.items() if k not in MODEL_FLAGS},
    )
    with runtime_from(args, torchrun=True) as runtime:
        result = run_training(data, args.out, cfg, resume=args.resume, runtime=runtime)
    if not runtime.rank0:
        return 0
    why = {
        "epochs": "stopped after all planned epochs",
        "budget": f"stopped at the {cfg.minutes:g}-minute budget; more minutes may train further",
        "perfect": f"stopped after {cfg.patience} epochs at perfect validation accuracy",
    }[result.stopped]
    epochs = len(result.history)
    print(
        f"best validation image-level accuracy {result.best_val_accuracy:.4f} after "
        f"{epochs} epoch{'' if epochs == 1 else 's'}, {result.minutes:.1f} min ({why}); "
        f"checkpoints in {args.out}"
    )
    return 0


def run_evaluate(args) -> int:
    data = load_npz(args.data)
    with runtime_from(args, torchrun=True) as runtime:
        result = evaluate_run(args.run, data, tta=not args.no_tta, runtime=runtime)
    if not runtime.rank0:
        return 0
    if args.out:
        result = replace(result, figure=examples_figure(result, args.out / EXAMPLES))
    if args.json:
        print_json({**to_json(result), "confusion_network": result.confusion_network})
        return 0
    columns = ["method", "image_accuracy", "image_correct", "quarter_accuracy", "quarter_correct"]
    rows = [{"method": m, **to_json(a)} for m, a in result.methods.items()]
    print(
        f"{result.n_test} labelled test images; seam temperature "
        f"{result.seam_temperature:.3g}, seam weight {result.seam_weight:.3g} (fitted on "
        f"{result.combination_fitted_on})"
    )
    print(format_table(rows, columns))
    print(f"highest on test: {result.highest_on_test}")
    return 0


def run_restore(args) -> int:
    data = load_npz(args.input)
    with runtime_from(args) as runtime:
        restored = restore_images(args.run, data, method=args.method, runtime=runtime)
    if args.png:  # before the npz: a failed figure leaves nothing behind
        for split, r in restored.items():
            restored_figure(split, r, args.png / f"restored_{split}.png")
    write_restored(args.out, restored)
    print_json(
        {"out": str(args.out), "method": args.method, **restored, "orders": NUM_PERMUTATIONS}
    )
    return 0
