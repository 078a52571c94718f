"""The refresh scheduler: cadence, back-off, retry_after, pause and one notice per transition."""

from __future__ import annotations

import asyncio
import gc
import random
from collections.abc import AsyncIterator

import pytest

from fota_tui.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from fota_tui.models import Capabilities, Device, ProviderKind
from fota_tui.services.scheduler import (
    HealthChanged,
    RefreshFailed,
    RefreshScheduler,
    RefreshStarted,
    RefreshSucceeded,
    SchedulerEvent,
)
from fota_tui.services.snapshot import fetch_snapshot


class FakeClient:
    kind = ProviderKind.AOVX
    capabilities = Capabilities()

    def __init__(self, name: str, script: list[ProviderError | None]) -> None:
        self.name = name
        self.script = script
        self.calls = 0

    async def devices(self) -> AsyncIterator[Device]:
        self.calls += 1
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        yield Device(provider=self.name, kind=self.kind, device_id=f"d{self.calls}")

    async def upgrades(self):  # type: ignore[no-untyped-def]
        return
        yield

    async def campaigns(self) -> list:  # type: ignore[type-arg]
        return []


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def make(clients: list[FakeClient], interval: float = 10.0):  # type: ignore[no-untyped-def]
    events: list[SchedulerEvent] = []
    clock = Clock()
    scheduler = RefreshScheduler(
        {c.name: c for c in clients},
        interval,
        events.append,
        jitter=0.0,
        monotonic=clock,
        rng=random.Random(1),
        fetch=fetch_snapshot,  # type: ignore[arg-type]
    )
    return scheduler, events, clock


async def test_due_providers_refresh_and_publish_snapshots():
    a, b = FakeClient("a", []), FakeClient("b", [])
    scheduler, events, clock = make([a, b])
    await scheduler.tick()
    assert [type(e) for e in events].count(RefreshSucceeded) == 2
    snap = next(e for e in events if isinstance(e, RefreshSucceeded)).snapshot
    assert snap.devices[0].device_id == "d1" and snap.health.ok
    events.clear()
    clock.t += 5
    await scheduler.tick()
    assert events == []  # not due yet
    clock.t += 5
    await scheduler.tick()
    assert sum(isinstance(e, RefreshStarted) for e in events) == 2


async def test_one_notice_when_failing_and_one_when_recovering():
    err = ProviderUnavailable("a", "down")
    a = FakeClient("a", [None, err, err, err, None, None])
    scheduler, events, clock = make([a])
    for _ in range(6):
        await scheduler.tick()
        clock.t += scheduler.schedules["a"].due - clock.t
    changes = [e for e in events if isinstance(e, HealthChanged)]
    assert [(c.healthy, c.reason) for c in changes] == [(False, "Unavailable: down"), (True, None)]
    assert sum(isinstance(e, RefreshFailed) for e in events) == 3


async def test_transient_errors_keep_the_cadence():
    err = ProviderUnavailable("a", "down")
    scheduler, _, _ = make([FakeClient("a", [])], interval=10)
    assert [scheduler.backoff(n, err) for n in (1, 2, 6, 30)] == [10, 10, 10, 10]


async def test_throttling_waits_retry_after_and_auth_errors_keep_the_cadence():
    scheduler, _, _ = make([FakeClient("a", [])], interval=10)
    auth = ProviderAuthError("a", "bad")
    assert [scheduler.backoff(n, auth) for n in (1, 2, 30)] == [10, 10, 10]
    assert scheduler.backoff(1, ProviderRateLimited("a", "slow down", retry_after=45)) == 45
    assert scheduler.backoff(1, ProviderRateLimited("a", "slow down", retry_after=3)) == 10
    assert scheduler.backoff(1, ProviderRateLimited("a", "slow down", retry_after=9999)) == 300


async def test_pause_stops_polling_and_refresh_now_forces_one():
    a = FakeClient("a", [])
    scheduler, _events, clock = make([a])
    await scheduler.tick()
    assert scheduler.toggle_pause() is True
    clock.t += 100
    await scheduler.tick()
    assert a.calls == 1
    scheduler.resume()
    await scheduler.tick()
    assert a.calls == 2
    scheduler.refresh_now("a")
    await scheduler.tick()
    assert a.calls == 3


async def test_unexpected_adapter_bug_becomes_a_failure_not_a_crash():
    class Buggy(FakeClient):
        async def campaigns(self) -> list:  # type: ignore[type-arg]
            raise KeyError("oops")

    scheduler, events, _ = make([Buggy("a", [])])
    await scheduler.tick()
    failed = [e for e in events if isinstance(e, RefreshFailed)]
    assert failed and "unexpected error" in failed[0].error.message


async def test_run_loop_wakes_on_refresh_now_and_can_be_cancelled():
    a = FakeClient("a", [])
    events: list[SchedulerEvent] = []
    scheduler = RefreshScheduler({"a": a}, 3600, events.append)  # type: ignore[dict-item]
    task = asyncio.create_task(scheduler.run())
    for _ in range(500):
        await asyncio.sleep(0.001)
        if a.calls and not scheduler.schedules["a"].running:
            break
    assert a.calls == 1
    scheduler.refresh_now()
    for _ in range(500):
        await asyncio.sleep(0.001)
        if a.calls >= 2:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert a.calls == 2


class VirtualTime:
    """A monotonic clock and a ``sleep`` that only end when the test advances time."""

    def __init__(self) -> None:
        self.t = 100.0
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.t + seconds, future)
        self.sleepers.append(entry)
        try:
            await future
        finally:
            self.sleepers.remove(entry)

    def advance(self) -> None:
        """Jump to the earliest pending sleep's end and wake it."""
        waiting = [s for s in self.sleepers if not s[1].done()]
        if waiting:
            deadline, future = min(waiting, key=lambda s: s[0])
            self.t = max(self.t, deadline)
            future.set_result(None)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_slow_provider_does_not_hold_back_the_others_and_cancels_cleanly(caplog):
    fast, slow = FakeClient("fast", []), FakeClient("slow", [])
    vt = VirtualTime()
    fast_at: list[float] = []
    slow_cancelled = asyncio.Event()

    async def fetch(client):  # type: ignore[no-untyped-def]
        if client.name == "slow":  # e.g. waiting out a rate-limit window
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                slow_cancelled.set()
                raise
        fast_at.append(vt.t)
        return await fetch_snapshot(client)

    events: list[SchedulerEvent] = []
    scheduler = RefreshScheduler(
        {"fast": fast, "slow": slow},  # type: ignore[dict-item]
        10.0,
        events.append,
        jitter=0.0,
        monotonic=vt,
        sleep=vt.sleep,
        fetch=fetch,
    )
    task = asyncio.create_task(scheduler.run())
    for _ in range(4):
        await settle()
        scheduler.refresh_now("slow")  # already running: must not start a second one
        vt.advance()
    await settle()

    # The fast provider kept its own cadence while the slow one was still in flight.
    assert fast_at == [100.0, 110.0, 120.0, 130.0, 140.0]
    assert [e.provider for e in events if isinstance(e, RefreshStarted)].count("slow") == 1
    assert scheduler.schedules["slow"].running
    assert scheduler.next_due() == 150.0

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slow_cancelled.is_set()  # the refresh in flight was cancelled with the loop
    assert scheduler._tasks == {}
    assert not scheduler.schedules["slow"].running
    leftovers = [t for t in asyncio.all_tasks() if t.get_name().startswith("refresh ")]
    assert leftovers == []
    gc.collect()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_tick_waits_for_its_own_refreshes_and_skips_running_ones():
    a, b = FakeClient("a", []), FakeClient("b", [])
    scheduler, events, _clock = make([a, b])
    scheduler.schedules["b"].running = True  # e.g. started by ``run``
    await scheduler.tick()
    assert (a.calls, b.calls) == (1, 0)
    assert [type(e) for e in events] == [RefreshStarted, RefreshSucceeded]
