"""`convlens report`: the main job."""

from pathlib import Path

from convlens.report import ReportContext, build_report


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="build the full report (HTML, PDF, results.json, figures)",
        description="Run every problem whose inputs are present (the built-in demo otherwise), "
        "reusing cached results, and write report.html, report.pdf, results.json and figures.",
    )
    p.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    built = build_report(ReportContext(out=args.out, seed=args.seed))
    for kind, path in built["paths"].items():
        print(f"{kind}: {path}")
    return 0
