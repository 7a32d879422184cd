"""CI check of a finished `convlens report`: its files exist and results.json has every section."""

import json
import sys
from pathlib import Path

SECTIONS = ("problem1", "problem2", "problem3", "seconds")


def main(folder: str) -> int:
    out = Path(folder)
    problems = [
        f"{name} is missing or empty"
        for name in ("report.html", "report.pdf", "results.json")
        if not (out / name).is_file() or (out / name).stat().st_size == 0
    ]
    if not problems:
        results = json.loads((out / "results.json").read_text())
        problems += [f"results.json has no '{s}'" for s in SECTIONS if not results.get(s)]
        if not (out / "report.pdf").read_bytes().startswith(b"%PDF"):
            problems.append("report.pdf is not a PDF")
    for p in problems:
        print(f"CI: {out}/{p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
