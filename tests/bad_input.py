"""The contract every bad-input test checks: one line `convlens: error: ...` naming the problem,
exit status 2, no traceback, and no file left behind."""

from __future__ import annotations

import re
from pathlib import Path

from convlens.cli import main


def tree(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in Path(folder).rglob("*")
        if not p.is_fifo() and p.is_file()
    }


def assert_refused(argv: list[str], words: str, capsys, watch: list[Path]) -> str:
    """Run the CLI in-process; `watch` are folders that must be unchanged afterwards."""
    before = [tree(w) if w.exists() else None for w in watch]
    assert main([str(a) for a in argv]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not _progress(line)]
    assert len(err) == 1, err
    line = err[0]
    assert line.startswith("convlens: error: ") and "Traceback" not in line
    assert words.lower() in line.lower(), line
    after = [tree(w) if w.exists() else None for w in watch]
    assert after == before
    return line


def _progress(line: str) -> bool:
    """A progress bar's redraws (tqdm writes them to stderr, then clears them): not messages."""
    return not line.strip() or re.search(r"\d+%\|", line) is not None
