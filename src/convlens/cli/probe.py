"""`convlens probe`: k-NN on the de-shuffling network's features (Problem 3c)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from convlens.cli.options import (
    MAX_CLASSES,
    add_seed,
    count,
    out_folder,
    print_json,
    runtime_from,
)
from convlens.figures.problem3 import EMBEDDING, embedding_figure
from convlens.jigsaw.puzzle.data import load_npz
from convlens.probe.features import LAYERS
from convlens.problem3.probe import AUTO, probe_run
from convlens.tables import format_table


def register(sub) -> None:
    p = sub.add_parser(
        "probe",
        help="k-NN on raw pixels vs de-shuffling features vs a random network",
        description="Extract features of DataNormal.npz (or problem3.zip) with the trained "
        "de-shuffling network without its permutation head (eval mode), and compare k-NN "
        "(k = 3, as in the exam), cosine k-NN, a k sweep and a linear probe on raw pixels, "
        "those features, and the same architecture with random weights.",
    )
    p.add_argument("run", type=Path, help="jigsaw run folder (or its best.pt)")
    p.add_argument("data", type=Path, help="DataNormal.npz, or problem3.zip / its folder")
    p.add_argument("--k", type=count(1, MAX_CLASSES, "neighbours"), default=3)
    p.add_argument(
        "--layer",
        choices=(AUTO, *LAYERS),
        default=AUTO,
        help="auto (default): every convolutional block, raw and standardised, chosen per "
        "network on a validation split of the training images; or the pooled convolutional "
        "features / a fully connected layer",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=out_folder, default=None, help="folder for the embedding figure")
    add_seed(p)
    p.set_defaults(func=run)


def run(args) -> int:
    data = load_npz(args.data, member="DataNormal.npz", kind="classes")
    with runtime_from(args, torchrun=True) as runtime:
        result = probe_run(
            args.run, data, k=args.k, layer=args.layer, seed=args.seed, runtime=runtime
        )
    if not runtime.rank0:
        return 0
    if args.out:
        result = replace(result, figure=embedding_figure(result, args.out / EMBEDDING))
    if args.json:
        print_json(result)
        return 0
    cols = ["features", "dim", f"knn{args.k}", "correct", "n", f"cosine_knn{args.k}"]
    cols += ["linear", "linear_input"]
    print(format_table(result.table, cols))
    if result.layers:
        print("\nevery block (chosen on val_knn; test_knn shown, never used to choose):")
        print(format_table(result.layers))
    print("\nk sweep:")
    print(
        format_table(
            [
                {"features": n, **{f"k={k}": v for k, v in s.items()}}
                for n, s in result.sweep.items()
            ]
        )
    )
    return 0
