"""Garbage collection that does not stop the screen.

A full collection walks every object the collector tracks: with 10,000 devices loaded that
is 100-150 ms in which no frame can be drawn (``benchmarks/README.md``, "Frame gaps").
What the console holds for long (modules, widgets, the applied snapshots) is moved out of
that walk once it is in place (``gc.freeze``), after a young collection has cleared what
died meanwhile; acyclic garbage is freed by reference counting as before.

What dies after it was frozen (a closed screen's widgets hold cycles) is collected by a
full collection now and then, when nobody has touched a key for a while: its pause is not
seen.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

FULL_EVERY = 600.0  # seconds between full collections, at the most
QUIET = 10.0  # seconds without input before one may run


class Memory:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._full_at = monotonic()
        self._input_at = self._full_at

    def touched(self) -> None:
        """The user pressed a key or used the mouse."""
        self._input_at = self._monotonic()

    def settle(self) -> None:
        """Long-lived data has just been put in place (startup, an applied refresh)."""
        gc.collect(1)
        gc.freeze()

    def tick(self) -> bool:
        """On the clock: a full collection when one is due and the user is away; True
        when it ran."""
        now = self._monotonic()
        if now - self._full_at < FULL_EVERY or now - self._input_at < QUIET:
            return False
        self._full_at = now
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return True
