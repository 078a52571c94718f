"""Single-flight reads: callers that want the same listing at once share one read.

A refresh runs devices(), upgrades() and campaigns() concurrently, and on several
platforms those need the same underlying listing: it is read once. Only a read still
in flight is shared, so every refresh (and "refresh now") asks the platform again and
a failing or recovering platform is seen at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class SharedReads:
    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[Any]] = {}

    async def get(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        """``read()``'s result, shared with concurrent callers of the same ``key``."""
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(read())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        result: T = await asyncio.shield(task)
        return result

    def _landed(self, key: str, task: asyncio.Future[Any]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # seen: callers cancelled meanwhile must not leave it "unretrieved"

    def forget(self, key: str) -> None:
        """After a write: a read that started before it is not joined by later callers."""
        self._flights.pop(key, None)

    def close(self) -> None:
        for task in self._flights.values():
            task.cancel()
        self._flights.clear()
