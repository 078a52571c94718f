"""Render SVG screenshots of the main views from the seeded simulator at a fixed time.

    uv run python screenshots/render.py [--out DIR]

Every picture comes from ``make_app`` on the in-process simulator (seed 7, 2,000
devices) with a manual clock fixed at 2026-11-22 08:00 UTC, the scheduler run once and
paused, so the files only change when the console does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fota_tui.config.paths import AppPaths
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import build_demo
from fota_tui.tui.app import FotaApp, make_app
from fota_tui.tui.screens.dashboard import DashboardScreen

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SIZE = (120, 40)


def build_app(tmp: Path) -> FotaApp:
    clock = ManualClock(NOW)
    demo = build_demo(seed=7, devices=2000, clock=clock)
    paths = AppPaths(tmp / "c", tmp / "c" / "profiles", tmp / "cache", tmp / "d", tmp / "l")
    app = make_app(demo.profile, transport=demo.transport, clock=clock, demo=demo, paths=paths)
    app.animation_level = "none"
    return app


async def settle(pilot: Any, app: FotaApp) -> None:
    for _ in range(600):
        await pilot.pause()
        views = app.session.provider_views()
        if not any(v.refreshing or (v.health == "unknown" and not v.build_error) for v in views):
            break
    await app.workers.wait_for_complete()
    await pilot.pause()


async def dashboard(pilot: Any) -> None:
    return None


async def campaigns(pilot: Any) -> None:
    await pilot.press("c")


async def campaign_detail(pilot: Any) -> None:
    await pilot.press("c", "down", "down", "enter")
    await pilot.app.workers.wait_for_complete()


async def device_detail(pilot: Any) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    screen.panel.set_filter("state:failed")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()


async def filter_in_use(pilot: Any) -> None:
    screen = pilot.app.screen
    screen.panel.set_filter("state:failed,expired provider:oceanconnect-demo")
    await pilot.press("space", "down", "space", "down", "slash")  # two selected, bar open
    screen.panel.filter_input.cursor_blink = False


async def help_screen(pilot: Any) -> None:
    await pilot.press("question_mark")


async def failing_provider(pilot: Any) -> None:
    """OceanConnect answers garbage twice; its pane turns STALE and Enter opens its view."""
    app = pilot.app
    demo = app.demo
    cfg = next(p for p in demo.profile.providers if p.kind.value == "oceanconnect")
    demo.simulator.faults.set(cfg.kind, malformed=1.0)
    app.session.toggle_pause()  # resume for two refreshes, then pause again
    for _ in range(2):
        app.session.refresh_now()
        await settle(pilot, app)
    app.session.toggle_pause()
    app._status_changed()
    app.open_provider(cfg.name)
    await pilot.pause()


async def rollout(pilot: Any) -> None:
    """A staged rollout of 40 AOVX terminals in its second wave, above the campaigns."""
    from fota_tui.models import CampaignSpec
    from fota_tui.services.rollouts.plan import WavePlan

    app, provider = pilot.app, "aovx-demo"
    sim = app.demo.simulator
    sim.faults.apply_spec("aovx:fail=0.02")
    sim.apply_settings()
    snapshot = app.session.snapshot(provider)
    busy = {u.device_id for u in snapshot.upgrades if u.state.active}
    online = [
        d.device_id
        for d in snapshot.devices
        if d.device_id not in busy and sim.fleet.devices[d.kind][d.device_id].online
    ]
    spec = CampaignSpec(
        provider=provider,
        name="A8 app 3.2.0",
        firmware="http://files.aovx.example/FOTA/103/A8_V3.2.0.bin",
        devices=online[:40],
        options={"type": 0, "mode": 0, "protocol": 1},
    )
    engine = app.rollouts.engine
    planned = await engine.plan(spec, WavePlan(waves=("10%", "50%", "100%"), soak_seconds=1800))
    engine.create(planned)
    for advance in (0, 3600, 3600, 900):  # the console steps it after each refresh
        app.demo.clock.advance(advance)
        await app.session.refresh(provider)
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.press("c")


VIEWS: dict[str, tuple[Callable[[Any], Awaitable[None]], tuple[int, int]]] = {
    "dashboard": (dashboard, SIZE),
    "dashboard-80x24": (dashboard, (80, 24)),
    "provider-failing": (failing_provider, SIZE),
    "campaigns": (campaigns, SIZE),
    "campaign-detail": (campaign_detail, SIZE),
    "device-detail": (device_detail, SIZE),
    "filter": (filter_in_use, SIZE),
    "help": (help_screen, SIZE),
    "rollout": (rollout, SIZE),
}


async def render(
    name: str, action: Callable[[Any], Awaitable[None]], size: tuple[int, int], out: Path
) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp))
        async with app.run_test(size=size) as pilot:
            await settle(pilot, app)
            app.session.toggle_pause()
            app._status_changed()
            await action(pilot)
            await pilot.pause()
            target = out / f"{name}.svg"
            target.write_text(app.export_screenshot(title=f"fota-tui — {name}"), encoding="utf-8")
            await app.session.stop(save=False)
    return target


async def main(out: Path, only: list[str] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, (action, size) in VIEWS.items():
        if only and name not in only:
            continue
        path = await render(name, action, size, out)
        print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--only", nargs="*", choices=list(VIEWS), help="render only these")
    args = parser.parse_args()
    asyncio.run(main(args.out, args.only))
    sys.exit(0)
