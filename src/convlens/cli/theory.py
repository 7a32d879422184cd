"""`convlens theory`: Problem 1's numbers."""

from convlens import theory
from convlens.cli.options import amount, print_json
from convlens.tables import format_table


def register(sub) -> None:
    p = sub.add_parser(
        "theory",
        help="Problem 1: cross-entropy definitions and the regularised minimisers",
        description="Print the cross-entropy results of Problem 1: the dataset loss in 2N "
        "operations, and argmin over stochastic z of CE + weight * penalty for no penalty, "
        "l2 and l1, in closed form beside scipy's numerical optimum.",
    )
    p.add_argument(
        "--weight",
        type=amount(1e6),
        default=1.0,
        help="regularisation weight (default 1)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--seed", type=int, default=0, help="accepted for uniformity; no randomness")
    p.set_defaults(func=run)


def run(args) -> int:
    results = theory.theory_results(weight=args.weight)
    if args.json:
        print_json(results)
        return 0
    print("(1d) argmin over stochastic z of CE(z; (1,0)) + weight * penalty, weight =", args.weight)
    print(
        format_table(
            results.minimisers,
            ["penalty", "closed_form", "z", "z_numerical", "abs_diff", "objective"],
        )
    )
    print("\n(1b) the CE formula on vectors that are not stochastic")
    print(format_table(results.non_stochastic))
    ds = results.dataset_ce
    print(
        f"\n(1c) dataset CE of {ds.n} samples: vectorised {ds.vectorised:.12g}, "
        f"loop {ds.loop:.12g}, {ds.operations} operations (2N = {2 * ds.n})"
    )
    ok = results.checks.all_agree
    print("checks:", "all agree" if ok else "DISAGREEMENT", results.checks)
    return 0 if ok else 1
