"""Typed results and their JSON: every step returns a frozen dataclass (a *record*), and
results.json is written from records by `to_json` and read back into them by `from_json`.

A record's fields are its JSON keys, in order. `key(...)` names a field whose JSON key is not a
Python name (``"steps_to_0.9_blur"``), leaves out a field that is None (a section that did not
run), or keeps a field out of the JSON altogether (arrays a figure is drawn from). A record
whose keys depend on its values (``knn3`` for k = 3) defines `to_json` and `from_json` itself.

Reading is strict: a missing key without a default, or a key the record does not know, is an
error naming the record and the key, so a renamed field fails when results are read, never as a
blank cell in the report.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

from convlens.errors import ConvlensError

_NO_DEFAULT = dataclasses.MISSING


def key(
    name: str | None = None,
    *,
    omit_if_none: bool = False,
    stored: bool = True,
    default: Any = _NO_DEFAULT,
) -> Any:
    """A dataclass field with its JSON spelling: `name` when it differs from the field's,
    `omit_if_none` to leave a None out of the JSON, `stored=False` to keep it out entirely."""
    meta = {"json": name, "omit_if_none": omit_if_none, "stored": stored}
    # what is not stored (arrays for a figure) takes no part in comparing two records
    return dataclasses.field(default=default, metadata=meta, compare=stored)


def _json_name(f: dataclasses.Field) -> str:
    return f.metadata.get("json") or f.name


def to_json(obj: Any) -> Any:
    """Plain JSON values (dicts, lists, numbers, strings, None) from records, lists, dicts,
    tuples, paths and numpy scalars or arrays."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        custom = getattr(obj, "to_json", None)
        if custom is not None:
            return custom()
        out = {}
        for f in dataclasses.fields(obj):
            if not f.metadata.get("stored", True):
                continue
            value = getattr(obj, f.name)
            if value is None and f.metadata.get("omit_if_none"):
                continue
            out[_json_name(f)] = to_json(value)
        return out
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist") and not isinstance(obj, bool | int | float | str):
        return obj.tolist()  # numpy scalars and arrays, tensors
    return obj


def from_json(cls: Any, data: Any, where: str = "results") -> Any:
    """`data` (as `to_json` wrote it) read back into the type `cls`."""
    origin = typing.get_origin(cls)
    if cls is Any or cls is object:
        return data
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(cls) if a is not type(None)]
        if data is None:
            return None
        return from_json(args[0], data, where) if len(args) == 1 else data
    if dataclasses.is_dataclass(cls):
        return _record(cls, data, where)
    if origin in (list, tuple):
        args = typing.get_args(cls)
        _expect(data, list, where)
        items = [
            from_json(args[0] if args else Any, v, f"{where}[{i}]") for i, v in enumerate(data)
        ]
        return items if origin is list else tuple(items)
    if origin is dict:
        _expect(data, dict, where)
        value_type = typing.get_args(cls)[1]
        return {k: from_json(value_type, v, f"{where}.{k}") for k, v in data.items()}
    if cls is float:
        if data is None:  # NaN and infinities are written as null (strict JSON)
            return float("nan")
        _expect(data, int | float, where)
        return float(data)
    if cls in (int, str, bool):
        _expect(data, cls, where)
        return data
    return data


def _record(cls: type, data: Any, where: str) -> Any:
    custom = cls.__dict__.get("from_json")
    if custom is not None:
        return custom.__get__(None, cls)(data)
    _expect(data, dict, where)
    hints = typing.get_type_hints(cls)
    known, values = set(), {}
    for f in dataclasses.fields(cls):
        if not f.metadata.get("stored", True):
            continue
        name = _json_name(f)
        known.add(name)
        if name in data:
            values[f.name] = from_json(hints[f.name], data[name], f"{where}.{name}")
        elif f.default is _NO_DEFAULT and f.default_factory is _NO_DEFAULT:
            raise ConvlensError(f"{where}: missing '{name}' (a {cls.__name__})")
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConvlensError(
            f"{where}: unexpected {', '.join(map(repr, unknown))} in a {cls.__name__}"
        )
    return cls(**values)


def _expect(data: Any, kind: Any, where: str) -> None:
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise ConvlensError(
            f"{where}: expected {getattr(kind, '__name__', kind)}, got {data!r:.60}"
        )
