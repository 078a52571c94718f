"""Garbage collection that does not stop the screen.

A full collection walks every object the collector tracks: with 10,000 devices loaded that
is 100-150 ms in which no frame can be drawn (``benchmarks/README.md``, "Frame gaps").
What the console holds for long (modules, widgets, the applied snapshots) is moved out of
that walk once it is in place (``gc.freeze``), after a young collection has cleared what
died meanwhile; acyclic garbage is freed by reference counting as before.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Call when long-lived data has just been put in place (startup, an applied refresh)."""
    gc.collect(1)
    gc.freeze()
