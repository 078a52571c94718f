"""Shared helpers for the console tests (imported by tests/tui/test_app_*.py).

``sim_app`` builds the app on the in-process simulator through ``make_app``, exactly as
``--demo`` does, with a ``ManualClock`` shared by the simulator and the app.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from fota_tui.config.paths import AppPaths
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import Demo, build_demo
from fota_tui.tui.app import FotaApp, SchedulerTiming, make_app

START = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


async def _no_timer(seconds: float) -> None:
    """The scheduler's wait in tests: only ``refresh_now`` (the ``r`` key) wakes it, never
    the real clock, so nothing refreshes behind a test's back on a loaded machine."""
    await asyncio.Event().wait()


def fake_timing(clock: ManualClock) -> SchedulerTiming:
    return SchedulerTiming(monotonic=lambda: clock.now().timestamp(), sleep=_no_timer)


@dataclass
class Harness:
    app: FotaApp
    demo: Demo
    clock: ManualClock


def sim_app(
    paths: AppPaths | None = None,
    *,
    devices: int = 120,
    seed: int = 7,
    autostart: bool = True,
    read_only: bool | None = None,
    low_bandwidth: bool = False,
    as_demo: bool = True,
    **kwargs: object,
) -> Harness:
    """``as_demo=False`` opens the simulator's profile as a plain profile: the transport
    then serves every profile switched to (no test ever leaves the process)."""
    clock = ManualClock(START)
    demo = build_demo(seed=seed, devices=devices, clock=clock)
    app = make_app(
        demo.profile,
        transport=demo.transport,
        clock=clock,
        autostart=autostart,
        read_only=read_only,
        low_bandwidth=low_bandwidth,
        paths=paths,
        demo=demo if as_demo else None,
        **{"timing": fake_timing(clock), **kwargs},  # type: ignore[arg-type]
    )
    app.animation_level = "none"
    return Harness(app, demo, clock)


async def settle(pilot: object, app: FotaApp, *, rounds: int = 200) -> None:
    """Wait until no provider is refreshing and every message is handled."""
    for _ in range(rounds):
        await pilot.pause()  # type: ignore[attr-defined]
        views = app.session.provider_views()
        if all(v.health != "unknown" or v.build_error for v in views) and not any(
            v.refreshing for v in views
        ):
            await pilot.pause()  # type: ignore[attr-defined]
            return
    raise AssertionError(f"providers did not settle: {app.session.provider_views()}")
