"""The console keeps full garbage collections off the screen: what it holds is frozen out
of the collector's walks, and what died after it was frozen is collected when nobody is
at the keyboard, at most every ``FULL_EVERY`` seconds."""

from __future__ import annotations

import gc
import weakref

from fota_tui.tui.memory import FULL_EVERY, QUIET, Memory


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_frozen_cycles_are_collected_only_by_a_quiet_full_collection() -> None:
    now = [1000.0]
    memory = Memory(lambda: now[0])
    try:
        node = Node()
        alive = weakref.ref(node)
        memory.settle()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect(1)
        assert alive() is not None  # frozen: a young collection does not see it

        assert not memory.tick()  # not due yet
        now[0] += FULL_EVERY
        memory.touched()  # someone is typing
        assert not memory.tick()
        now[0] += QUIET
        assert memory.tick()  # due and quiet: the full collection runs
        assert alive() is None
        assert not memory.tick()  # and not again before FULL_EVERY
    finally:
        gc.unfreeze()
