"""What an adapter keeps between refreshes so that a refresh asks the platform only for
what can have changed (``Incremental`` in ``base.py``).

- ``Sweeps`` says when everything must be read: the first time, every ``full_sweep``
  seconds (something started elsewhere shows within one sweep), when asked (Ctrl+R,
  ``status --full``), and after a read that could not be trusted.
- ``Finished`` keeps what was read about finished things (an ended campaign's devices, a
  finished task's subtasks): they are not read again until the platform lists the thing
  changed, or a sweep comes round.
- ``Listing`` keeps a device list for ``device_list_every`` seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from fota_tui.models import Sweep, utcnow
from fota_tui.providers.http import ClientOptions

T = TypeVar("T")


class Contradiction(Exception):
    """An incremental answer that does not agree with what is known: read everything."""


class Sweeps:
    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.last: Sweep | None = None
        self._at: float | None = None  # monotonic time of the last sweep
        self._owed: str | None = None
        self.running: str | None = None  # the reason of the sweep in progress

    def due(self) -> str | None:
        """Why the next refresh must read everything, or None (it may be incremental)."""
        if self._owed is not None:
            return self._owed
        if self._at is None:
            return "first read"
        every = self.options.full_sweep
        if self.options.monotonic() - self._at >= every:
            return f"every {every / 60:g} min"
        return None

    def owe(self, reason: str) -> None:
        """The next refresh reads everything (the first reason given is kept)."""
        self._owed = self._owed or reason

    def done(self, reason: str) -> None:
        self.last = Sweep(at=utcnow(), reason=reason)
        self._at = self.options.monotonic()
        self._owed = None


class Finished(Generic[T]):
    """Answers about finished things, by id, with the listing entry they were read for."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[Hashable | Any, T]] = {}

    def get(self, key: str, listed: Any) -> T | None:
        """What was read for ``key`` when it was listed exactly as ``listed`` now."""
        kept = self._kept.get(key)
        return kept[1] if kept is not None and kept[0] == listed else None

    def put(self, key: str, listed: Any, value: T) -> None:
        self._kept[key] = (listed, value)

    def keep_only(self, keys: set[str]) -> None:
        for key in [k for k in self._kept if k not in keys]:
            del self._kept[key]

    def clear(self) -> None:
        self._kept.clear()


class Listing(Generic[T]):
    """A device list read again every ``device_list_every`` seconds, or on a sweep."""

    def __init__(self, options: ClientOptions, sweeps: Sweeps) -> None:
        self.options = options
        self.sweeps = sweeps
        self._kept: tuple[float, list[T]] | None = None

    async def get(self, read: Callable[[], Awaitable[list[T]]]) -> list[T]:
        now = self.options.monotonic()
        kept = self._kept
        if (
            kept is not None
            and self.sweeps.due() is None
            and now - kept[0] < self.options.device_list_every
        ):
            return kept[1]
        listed = await read()
        self._kept = (now, listed)
        return listed
