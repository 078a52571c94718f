"""The live refresh loop: one cadence per provider, jitter, back-off, pause.

Headless: events go to an injected ``publish`` callback; the console turns them into
replaceable Textual messages. Time comes from injected ``monotonic``/``sleep`` so tests
drive ``tick()`` deterministically.

Cadences are independent: ``run`` starts each due provider's refresh as its own task
and never waits for one refresh before starting another, so a slow platform (one
waiting out its rate-limit window) does not hold back the other panes. A provider whose
refresh is running is never started twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from fota_tui.errors import ProviderError, ProviderRateLimited
from fota_tui.providers.base import ProviderClient
from fota_tui.services.snapshot import ProviderSnapshot, fetch_snapshot

log = logging.getLogger(__name__)

Fetch = Callable[[ProviderClient], Awaitable[ProviderSnapshot]]


@dataclass(frozen=True)
class RefreshStarted:
    provider: str


@dataclass(frozen=True)
class RefreshSucceeded:
    provider: str
    snapshot: ProviderSnapshot


@dataclass(frozen=True)
class RefreshFailed:
    provider: str
    error: ProviderError
    failures: int  # consecutive
    retry_in: float  # seconds


@dataclass(frozen=True)
class HealthChanged:
    """Sent once on healthy → failing and once on recovery, never per poll."""

    provider: str
    healthy: bool
    reason: str | None = None


SchedulerEvent = RefreshStarted | RefreshSucceeded | RefreshFailed | HealthChanged


@dataclass
class ProviderSchedule:
    due: float = 0.0
    failures: int = 0
    healthy: bool | None = None
    running: bool = False
    last_error: ProviderError | None = None


@dataclass
class RefreshScheduler:
    clients: Mapping[str, ProviderClient]
    interval: float
    publish: Callable[[SchedulerEvent], None]
    jitter: float = 0.1  # ± share of the interval
    max_backoff: float = 300.0
    fetch: Fetch = fetch_snapshot
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        now = self.monotonic()
        self.schedules = {name: ProviderSchedule(due=now) for name in self.clients}
        self.paused = False
        self._once: set[str] = set()  # providers to refresh once while paused
        self._wake = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}  # refreshes started by ``run``

    # -- control -------------------------------------------------------------
    def refresh_now(self, provider: str | None = None) -> None:
        """Refresh now; while paused, once, and polling stays paused."""
        now = self.monotonic()
        for name, schedule in self.schedules.items():
            if provider in (None, name):
                schedule.due = now
                if self.paused:
                    self._once.add(name)
        self._wake.set()

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def toggle_pause(self) -> bool:
        self.resume() if self.paused else self.pause()
        return self.paused

    def next_due(self) -> float:
        return min((s.due for s in self.schedules.values() if not s.running), default=0.0)

    # -- work ----------------------------------------------------------------
    def _due(self) -> list[str]:
        now = self.monotonic()
        return [n for n, s in self.schedules.items() if s.due <= now and not s.running]

    async def tick(self) -> None:
        """Refresh every provider that is due (concurrently) and wait for them."""
        if self.paused:
            return
        await asyncio.gather(*(self._refresh(name) for name in self._due()))

    async def run(self) -> None:
        """Start each provider's refresh when it is due, each on its own; cancelled by
        the caller (which cancels the refreshes in flight too)."""
        try:
            while True:
                self._wake.clear()  # before starting, so a wake-up meanwhile is not lost
                for name in self._due():
                    if not self.paused or name in self._once:
                        self._once.discard(name)
                        self._start(name)
                waiting = [s.due for s in self.schedules.values() if not s.running]
                if self.paused or not waiting:  # a refresh ending wakes the loop
                    delay = 3600.0
                else:
                    delay = max(min(waiting) - self.monotonic(), 0.05)
                sleeper = asyncio.ensure_future(self.sleep(delay))
                waker = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleeper.cancel()
                    waker.cancel()
        finally:
            await self._cancel_refreshes()

    def _start(self, name: str) -> None:
        self.schedules[name].running = True  # at once: the loop must not start it again
        task = asyncio.create_task(self._refresh(name), name=f"refresh {name}")
        self._tasks[name] = task
        task.add_done_callback(partial(self._finished, name))

    def _finished(self, name: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]
            self.schedules[name].running = False  # also when cancelled before it began
        if not task.cancelled() and (exc := task.exception()) is not None:
            # ``_refresh`` turns every error into an event; this is a bug in ``publish``.
            log.error("refresh of %s failed", name, exc_info=exc)

    async def _cancel_refreshes(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _refresh(self, name: str) -> None:
        schedule = self.schedules[name]
        schedule.running = True
        try:
            self.publish(RefreshStarted(name))
            try:
                snapshot = await self.fetch(self.clients[name])
            except ProviderError as error:
                self._failed(name, schedule, error)
            except Exception as exc:  # a bug in an adapter must not stop the loop
                log.exception("refresh of %s failed unexpectedly", name)
                self._failed(name, schedule, ProviderError(name, f"unexpected error: {exc!r}"))
            else:
                schedule.failures = 0
                schedule.last_error = None
                schedule.due = self.monotonic() + self._jittered(self.interval)
                self.publish(RefreshSucceeded(name, snapshot))
                if schedule.healthy is False:
                    self.publish(HealthChanged(name, True))
                schedule.healthy = True
        finally:
            schedule.running = False
            self._wake.set()  # the loop recomputes its next wake-up

    def _failed(self, name: str, schedule: ProviderSchedule, error: ProviderError) -> None:
        schedule.failures += 1
        schedule.last_error = error
        delay = self.backoff(schedule.failures, error)
        schedule.due = self.monotonic() + delay
        self.publish(RefreshFailed(name, error, schedule.failures, delay))
        if schedule.healthy is not False:
            self.publish(HealthChanged(name, False, f"{error.title}: {error.message}"))
        schedule.healthy = False

    def backoff(self, failures: int, error: ProviderError) -> float:
        """When to try again after a failed refresh.

        The back-off against a failing platform happens per request (reads are retried
        with growing delays inside a refresh) and on throttling: a rate-limited provider
        waits at least ``retry_after``. Otherwise the cadence holds, so a pane recovers
        within one interval of its platform recovering. Login safety lives in the
        adapters (no login loops; ThingSpace stops after two refused logins), so an auth
        error needs no extra delay here. ``failures`` is kept for callers that show it.
        """
        delay = self.interval
        if isinstance(error, ProviderRateLimited) and error.retry_after:
            delay = max(delay, min(error.retry_after, self.max_backoff))
        return self._jittered(delay)

    def _jittered(self, seconds: float) -> float:
        return seconds * (1 + self.rng.uniform(-self.jitter, self.jitter))
