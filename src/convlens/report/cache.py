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

T = TypeVar("T")


def cache_key(**settings) -> str:
    blob = json.dumps({"version": __version__, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def is_cached(cache_dir: Path, name: str, key: str) -> bool:
    """Whether `name` has an entry stored under `key` (that it reads back is checked on use)."""
    try:
        return json.loads((Path(cache_dir) / f"{name}.json").read_text()).get("key") == key
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


def cached(cache_dir: Path, name: str, key: str, compute: Callable[[], T], record: type[T]) -> T:
    """`compute()`'s record, or the one stored under `key`; a stored entry that is damaged or
    does not read back as `record` is recomputed."""
    path = Path(cache_dir) / f"{name}.json"
    if path.exists():
        try:
            stored = json.loads(path.read_text())
            if stored.get("key") == key:
                return from_json(record, stored["results"], str(path))
        except (json.JSONDecodeError, KeyError, ConvlensError):
            pass
    results = compute()
    atomic.write_json(path, {"key": key, "results": results})
    return results
