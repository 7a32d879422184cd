"""Plain-text tables for the terminal: the CLI's human-readable output."""

from __future__ import annotations

from collections.abc import Sequence

from convlens.record import to_json


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_cell(v) for v in value) + ")"
    return str(value)


def as_rows(rows: Sequence) -> list[dict]:
    """Dicts from dicts or records (a record's row is its JSON: the same column names)."""
    return [row if isinstance(row, dict) else to_json(row) for row in rows]


def format_table(rows: Sequence, columns: Sequence[str] | None = None) -> str:
    """Align a list of dicts or records as columns; the header is the keys (or `columns`)."""
    if not rows:
        return "(no rows)"
    rows = as_rows(rows)
    columns = list(columns or rows[0].keys())
    cells = [[_cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body])
