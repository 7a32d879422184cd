"""Per-section result cache, so an interrupted or repeated `convlens report` resumes.

A section's results are stored as JSON beside a key describing its inputs and settings; the
section is recomputed only when the key changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from convlens import __version__, atomic
from convlens.errors import ConvlensError
from convlens.record import from_json
from convlens.strict_json import to_strict

T = TypeVar("T")


def cache_key(**settings) -> str:
    blob = json.dumps({"version": __version__, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _digest(results) -> str:
    """Of a stored record as written: a hand edit (a value set to null, a number changed) no
    longer matches it, so the entry is recomputed rather than trusted."""
    text = json.dumps(results, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored(path: Path, key: str):
    """The entry's results when it is whole and stored under `key`; None when it is under
    another key or absent; raises ValueError saying why when it is damaged."""
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not readable JSON ({type(exc).__name__})") from None
    if not isinstance(stored, dict) or not {"key", "results"} <= set(stored):
        raise ValueError("not a cache entry")
    if stored["key"] != key:
        return None
    if "digest" not in stored:
        raise ValueError("written by an earlier convlens, without a digest")
    if stored["digest"] != _digest(stored["results"]):
        raise ValueError("changed since it was written")
    return stored["results"]


def is_cached(cache_dir: Path, name: str, key: str) -> bool:
    """Whether `name` has a whole entry stored under `key` (that it reads back as its record is
    checked on use)."""
    try:
        return _stored(Path(cache_dir) / f"{name}.json", key) is not None
    except ValueError:
        return False


def figure_names(results) -> list[str]:
    """The figure files a stored record names (under keys such as "figure", "curve_figure",
    "figures")."""
    found = []
    if isinstance(results, dict):
        for k, v in results.items():
            if {"figure", "figures"} & set(str(k).split("_")):
                found += [v] if isinstance(v, str) else [x for x in v or [] if isinstance(x, str)]
            else:
                found += figure_names(v)
    elif isinstance(results, list):
        for v in results:
            found += figure_names(v)
    return found


def cached(
    cache_dir: Path,
    name: str,
    key: str,
    compute: Callable[[], T],
    record: type[T],
    figures: Path | None = None,
    note: Callable[[str], None] = lambda text: None,
) -> T:
    """`compute()`'s record, or the one stored under `key`. A stored entry that is damaged,
    edited, does not read back as `record`, or names a figure missing from `figures` is
    recomputed, with one `note` saying why."""
    path = Path(cache_dir) / f"{name}.json"
    try:
        results = _stored(path, key)
        if results is not None:
            missing = [f for f in figure_names(results) if figures and not (figures / f).exists()]
            if missing:
                raise ValueError(f"its figure {missing[0]} is missing")
            return from_json(record, results, str(path))
    except (ValueError, ConvlensError) as exc:
        reason = str(exc).split(": ", 1)[-1] if isinstance(exc, ConvlensError) else str(exc)
        note(f"{path}: {reason}; computing {name} again")
    results = compute()
    stored = to_strict(results)  # exactly what the file will hold, so the digest matches it
    atomic.write_json(path, {"key": key, "digest": _digest(stored), "results": stored})
    return results
