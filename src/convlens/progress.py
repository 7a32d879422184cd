"""The one progress bar: every long loop draws it the same way (cleared when done, so the next
line of output is not pushed down; off unless the runtime asks for it)."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm.auto import tqdm


def progress_bar(iterable: Iterable, desc: str, show: bool, total: int | None = None) -> tqdm:
    """`iterable` with a bar labelled `desc` when `show`; usable as a context manager, which
    closes (and clears) the bar before an error line is printed."""
    return tqdm(iterable, desc=desc, total=total, disable=not show, leave=False)


def note(text: str) -> None:
    """One "note: ..." line on stderr, above any running bar: what convlens decided for the
    user that they did not ask for (a fallback, a file skipped), said rather than silent."""
    tqdm.write(f"note: {text}", file=sys.stderr)


def write(line: str) -> None:
    """A line printed above any bar that is running, without breaking it."""
    tqdm.write(line)
