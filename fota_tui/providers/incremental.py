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

from collections.abc import Awaitable, Callable, Hashable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from fota_tui.errors import ProviderError
from fota_tui.models import Sweep, utcnow
from fota_tui.providers.base import LocalGroup

if TYPE_CHECKING:  # the console reads ``forced`` before its first frame: no httpx here
    from fota_tui.providers.http import ClientOptions

T = TypeVar("T")

HOT_AFTER = timedelta(minutes=10)  # a finished upgrade is read again for this long
RECENT_SEND = timedelta(days=1)  # what fota-tui sent is read for until it shows
MISMATCH = "a read did not match what was known"
FAILED = "an incremental read failed"


def forced(reason: str) -> bool:
    """Whether a sweep was forced by an answer that could not be trusted."""
    return reason.startswith((MISMATCH, FAILED))


def recent_sends(
    groups: Iterable[LocalGroup], now: datetime, slack: timedelta
) -> dict[str, datetime]:
    """Device → when fota-tui sent it something (less ``slack``), from the journal groups
    of the last ``RECENT_SEND``."""
    sent: dict[str, datetime] = {}
    for group in groups:
        if now - group.created_at > RECENT_SEND:
            continue
        since = group.created_at - slack
        for device in group.device_ids:
            if device not in sent or since < sent[device]:
                sent[device] = since
    return sent


class Contradiction(Exception):
    """An incremental answer that does not agree with what is known: read everything."""


class Sweeps:
    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.last: Sweep | None = None
        self._at: float | None = None  # monotonic time of the last sweep
        self._owed: str | None = None

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

    async def read(
        self, incremental: Callable[[], Awaitable[T]], full: Callable[[], Awaitable[T]]
    ) -> T:
        """``incremental()`` unless a sweep is due. One that contradicts what is known
        (``Contradiction``) is followed by ``full()`` at once; one that fails makes the
        next read a full one."""
        reason = self.due()
        if reason is None:
            try:
                return await incremental()
            except Contradiction as exc:
                reason = f"{MISMATCH}: {exc}"
            except ProviderError as exc:
                self.owe(f"{FAILED}: {exc.message}")
                raise
        try:
            result = await full()
        except ProviderError:
            self.owe(reason)  # still owed
            raise
        self.done(reason)
        return result


class SweepReporting:
    """``Incremental``'s two members, for an adapter that keeps ``_sweeps``."""

    _sweeps: Sweeps

    @property
    def sweep(self) -> Sweep | None:
        return self._sweeps.last

    def request_full(self, reason: str = "asked") -> None:
        self._sweeps.owe(reason)


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
