"""JSON that strict parsers accept (RFC 8259): NaN and infinities, which JSON cannot hold,
become null; numpy scalars and arrays become numbers and lists."""

from __future__ import annotations

import json
import math
from typing import Any


def to_strict(obj: Any) -> Any:
    import dataclasses

    import numpy as np

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        from convlens.record import to_json

        obj = to_json(obj)
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): to_strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_strict(v) for v in obj]
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    return str(obj)


def dumps(obj: Any, **kw) -> str:
    return json.dumps(to_strict(obj), allow_nan=False, **kw)
