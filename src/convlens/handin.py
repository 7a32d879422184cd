"""Pack the exam hand-in: homeexam_candidateXX.zip with doc/ (the report PDF) and src/."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import convlens
from convlens import atomic
from convlens.errors import ConvlensError

_PROJECT_FILES = ("pyproject.toml", "README.md", "Makefile")
# never packed: caches, build metadata, our partial files, and hand-ins made earlier (an --out
# inside the packed tree must not pack its own zip, growing or finished)
_SKIP = re.compile(
    r"(__pycache__|\.pyc$|\.egg-info|"
    + re.escape(atomic.TEMP_MARK)
    + r"|homeexam_candidate[A-Za-z0-9]*\.zip$)"
)


def source_files() -> list[tuple[Path, str]]:
    """(file, name in the zip) for the package and, in a checkout, the project files."""
    package = Path(convlens.__file__).resolve().parent
    files = [
        (f, f"src/convlens/{f.relative_to(package).as_posix()}")
        for f in sorted(package.rglob("*"))
        if f.is_file() and not _SKIP.search(str(f))
    ]
    root = package.parents[1]  # src layout: <root>/src/convlens
    for name in _PROJECT_FILES:
        if (root / name).is_file():
            files.append((root / name, f"src/{name}"))
    for folder in ("tests", "benchmarks", "docs"):
        for f in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            if f.is_file() and not _SKIP.search(str(f)):
                files.append((f, f"src/{folder}/{f.relative_to(root / folder).as_posix()}"))
    return files


def pack(candidate: str, report_pdf: Path, out_dir: Path = Path(".")) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9]+", candidate):
        raise ConvlensError(f"--candidate must be letters and digits, got {candidate!r}")
    if not report_pdf.is_file():
        raise ConvlensError(f"{report_pdf}: no report PDF (run `convlens report` first)")
    target = Path(out_dir) / f"homeexam_candidate{candidate}.zip"
    files = source_files()  # listed before the zip exists: it can never list itself
    with atomic.atomic_path(target, suffix=".zip") as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(report_pdf, "doc/report.pdf")
            for path, name in files:
                z.write(path, name)
    return target
