"""The one step timer: the seconds each named step of a section took (results.json, the
report's appendix beside the plan's estimate), with a line announcing each step as it starts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class StepTimer:
    def __init__(self, announce: Callable[[str], None] = lambda text: None):
        self.announce = announce
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str, text: str | None = None) -> Iterator[None]:
        """Times the block as `name` (kept only when it finishes); `text` is announced first."""
        if text is not None:
            self.announce(text)
        started = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - started, 2)
