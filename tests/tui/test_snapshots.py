"""Deterministic pictures of the main views (pytest-textual-snapshot).

Seeded simulator on a ManualClock shared with the app, a fixed "now", the scheduler
started once and then paused. Update with ``uv run pytest tests/tui/test_snapshots.py
--snapshot-update`` after reviewing the report when a change is intended.
"""

from __future__ import annotations

from typing import Any

from tui_app_harness import settle, sim_app

from fota_tui.tui.screens.campaigns import CampaignDetailScreen
from fota_tui.tui.screens.dashboard import DashboardScreen
from fota_tui.tui.screens.device_detail import DeviceDetailScreen

SIZE = (120, 40)


async def _ready(pilot: Any) -> None:
    app = pilot.app
    await settle(pilot, app)
    app.session.toggle_pause()  # started once, then paused: nothing moves
    app._status_changed()
    await pilot.pause()


def test_dashboard(snap_compare: Any) -> None:
    assert snap_compare(sim_app().app, terminal_size=SIZE, run_before=_ready)


def test_dashboard_small_terminal(snap_compare: Any) -> None:
    assert snap_compare(sim_app().app, terminal_size=(80, 24), run_before=_ready)


def test_campaigns(snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        await _ready(pilot)
        await pilot.press("c")

    assert snap_compare(sim_app().app, terminal_size=SIZE, run_before=before)


def test_campaign_detail(snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        await _ready(pilot)
        await pilot.press("c", "enter")
        await pilot.app.workers.wait_for_complete()
        assert isinstance(pilot.app.screen, CampaignDetailScreen)
        await pilot.pause()

    assert snap_compare(sim_app().app, terminal_size=SIZE, run_before=before)


def test_device_detail(snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        await _ready(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DashboardScreen)
        row = min((r for r in screen.table.rows if r.campaign_id), key=lambda r: r.key)
        screen.table.move_cursor_to_key(row.key)
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        assert isinstance(pilot.app.screen, DeviceDetailScreen)
        await pilot.pause()

    assert snap_compare(sim_app().app, terminal_size=SIZE, run_before=before)


def test_help(snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        await _ready(pilot)
        await pilot.press("question_mark")

    assert snap_compare(sim_app().app, terminal_size=SIZE, run_before=before)
