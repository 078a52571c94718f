"""The console against the in-process simulator: dashboard, filter, keys, stale panes."""

from __future__ import annotations

import gc
from pathlib import Path

from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input
from textual.widgets._footer import FooterKey
from tui_app_harness import settle, sim_app

from fota_tui.config.paths import AppPaths
from fota_tui.models import UpgradeState
from fota_tui.tui.screens.dashboard import DashboardScreen
from fota_tui.tui.screens.device_detail import DeviceDetailScreen
from fota_tui.tui.screens.prompt import ExportPrompt
from fota_tui.tui.widgets.provider_pane import PaneLine, ProviderPane
from fota_tui.tui.widgets.status_header import StatusHeader


def footer_actions(screen: object) -> set[str]:
    return {b.binding.action for b in screen.active_bindings.values() if b.binding.show}  # type: ignore[attr-defined]


async def test_dashboard_paints_every_provider_and_the_fleet() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        panes = list(screen.query(ProviderPane))
        assert [p.view.name for p in panes] == h.app.session.provider_names
        assert len(panes) == len(h.demo.profile.providers)
        healthy = [p for p in panes if p.view.health == "ok"]
        assert healthy and all(p.has_class("-ok") for p in healthy)
        store = h.app.session.store
        assert screen.table.row_count == len(store) > 0
        # problems first: failed, then expired, whatever order the refreshes finished in
        states = [row.state for row in screen.table.rows]
        failed = states.count(UpgradeState.FAILED)
        assert failed and states[:failed] == [UpgradeState.FAILED] * failed
        header = screen.query_one(StatusHeader)
        assert "Demo fleet" in str(header.query_one("#hdr-title").render())
        assert str(header.query_one("#hdr-env").render()) == "LAB"
        assert not header.query_one("#hdr-ro").display
        assert h.app.session.refresh_state == "live"


async def test_filter_live_with_inline_error_and_escape_clears() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        total = screen.table.row_count
        await pilot.press("slash")
        assert screen.panel.filter_open and isinstance(h.app.focused, Input)
        await pilot.press(*"state:")  # typed keys reach the input, not the app's bindings
        assert screen.panel.filter_input.value == "state:"
        screen.panel.filter_input.value = "state:succeeded"
        await pilot.pause()
        expected = sum(1 for r in h.app.session.store if r.state is UpgradeState.SUCCEEDED)
        assert expected and screen.table.row_count == expected
        assert all(r.state is UpgradeState.SUCCEEDED for r in screen.table.rows)
        await pilot.press("enter")
        assert not screen.panel.filter_open and screen.table.has_focus
        assert "filter state:succeeded" in str(screen.panel.border_title)
        # an invalid filter keeps the last good one and says why, inline
        await pilot.press("slash")
        screen.panel.filter_input.value = "state:bogus"
        await pilot.pause()
        assert screen.panel.filter_error is not None and "bogus" in screen.panel.filter_error
        assert screen.table.row_count == expected  # the last valid filter stays
        await pilot.press("enter")  # Enter on an invalid filter keeps the bar open
        assert screen.panel.filter_open
        await pilot.press("escape")
        assert screen.table.row_count == total and not screen.panel.filter_open
        assert screen.panel.filter_error is None


async def test_stale_badge_one_notice_per_transition_and_recovery() -> None:
    h = sim_app()
    kind = h.demo.profile.providers[-1].kind
    name = h.demo.profile.providers[-1].name
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        pane = h.app.screen.grid.pane(name)  # type: ignore[attr-defined]
        rows_before = len(h.app.session.store.rows(name))
        assert pane.view.health == "ok" and rows_before
        h.demo.simulator.faults.set(kind, malformed=1.0)
        for _ in range(3):  # three failing polls, one notice
            await pilot.press("r")
            await settle(pilot, h.app)
        assert pane.has_class("-stale") and str(pane.border_subtitle) == "STALE"
        assert pane.view.stale_reason and pane.view.failures == 3
        assert len(h.app.session.store.rows(name)) == rows_before  # last good data stays
        failing = [t for t, _ in h.app.notifications_sent if t == "Provider failing"]
        assert len(failing) == 1
        others = [p for p in h.app.screen.query(ProviderPane) if p.view.name != name]
        assert not any(p.view.stale for p in others if p.view.health == "ok")
        h.demo.simulator.faults.clear(kind)
        await pilot.press("r")
        await settle(pilot, h.app)
        await pilot.press("r")
        await settle(pilot, h.app)
        assert not pane.has_class("-stale") and pane.view.health == "ok"
        titles = [t for t, _ in h.app.notifications_sent]
        assert titles.count("Provider failing") == 1 and titles.count("Provider recovered") == 1
        assert h.app.is_running


async def test_select_copy_and_export(tmp_path: Path) -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        first, second = screen.table.rows[0], screen.table.rows[1]
        await pilot.press("space", "down", "space", "y")
        assert h.app.clipboard == f"{first.device_id}\n{second.device_id}"
        assert "2 selected" in str(screen.panel.border_title)
        await pilot.press("slash")
        screen.panel.filter_input.value = "state:succeeded"
        await pilot.press("enter")
        await pilot.press("e")
        assert isinstance(h.app.screen, ExportPrompt)
        target = tmp_path / "view.json"
        prompt_input = h.app.screen.query_one(Input)
        prompt_input.value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        import json

        data = json.loads(target.read_text(encoding="utf-8"))
        assert len(data) == screen.table.row_count > 0
        assert {item["state"] for item in data} == {"succeeded"}
        assert h.app.screen is screen
        # the same path again: asked first, the file untouched until a second Enter
        before = target.read_bytes()
        target.write_text("[]")
        await pilot.press("e")
        prompt = h.app.screen
        assert isinstance(prompt, ExportPrompt)
        prompt.query_one(Input).value = str(target)
        await pilot.press("enter")
        note = str(prompt.query_one("#export-error").render())
        assert "exists" in note and target.read_text() == "[]" and h.app.screen is prompt
        await pilot.press("enter")
        assert h.app.screen is screen and target.read_bytes() == before
        # a path that cannot be written: the prompt stays, with the typed path and why
        await pilot.press("e")
        prompt = h.app.screen
        assert isinstance(prompt, ExportPrompt)
        typed = str(tmp_path / "no-such-folder" / "x.csv")
        prompt.query_one(Input).value = typed
        await pilot.press("enter")
        assert h.app.screen is prompt and prompt.query_one(Input).value == typed
        assert "does not exist" in str(prompt.query_one("#export-error").render())
        await pilot.press("escape")
        assert h.app.screen is screen


async def test_enter_opens_device_detail_with_history() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        row = next(r for r in screen.table.rows if r.campaign_id)
        assert screen.table.move_cursor_to_key(row.key)
        await pilot.press("enter")
        detail = h.app.screen
        assert isinstance(detail, DeviceDetailScreen) and detail.key == row.key
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert detail.history is not None
        assert row.campaign_id in {u.campaign_id for u in detail.history.entries}
        text = str(detail.query_one("#device-history").render())
        assert row.campaign_id in text and "platform status" in text
        assert row.device_id in str(detail.query_one("#device-facts").render())
        await pilot.press("y")
        assert h.app.clipboard == row.device_id
        await pilot.press("escape")
        assert isinstance(h.app.screen, DashboardScreen)


async def test_pause_resume_and_refresh_state() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        header = h.app.screen.query_one(StatusHeader)
        await pilot.press("p")
        assert h.app.session.paused
        assert "paused" in str(header.query_one("#hdr-state").render())
        await pilot.press("p")
        assert not h.app.session.paused
        assert "live" in str(header.query_one("#hdr-state").render())


async def test_read_only_hides_every_changing_action() -> None:
    def wizard(session, devices):  # type: ignore[no-untyped-def]
        from textual.screen import Screen

        return Screen()

    h = sim_app(read_only=True, wizard=wizard)
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert h.app.session.read_only and not h.app.can_create_campaigns
        assert "new_campaign" not in footer_actions(screen)
        assert h.app.screen.query_one("#hdr-ro").display
        titles = [c.title for c in h.app.get_system_commands(screen)]
        assert "New campaign" not in titles
        await pilot.press("n")
        assert h.app.screen is screen

    h = sim_app(wizard=wizard)  # writable, with a wizard: offered
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        assert "new_campaign" in footer_actions(h.app.screen)
        await pilot.press("n")
        assert h.app.screen is not h.app.dashboard()

    h = sim_app()  # the real wizard is found by default
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        assert "new_campaign" in footer_actions(h.app.screen)
        await pilot.press("n")
        await pilot.pause()
        assert type(h.app.screen).__name__ == "CampaignWizardScreen"


async def test_small_terminal_shows_panes_and_rows() -> None:
    h = sim_app()
    async with h.app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        for pane in screen.query(ProviderPane):
            assert pane.region.right <= 80 and pane.region.bottom <= 24 and pane.region.height >= 4
        table = screen.table
        assert table.region.height >= 5 and table.region.bottom <= 23


async def test_low_bandwidth_slows_clock_redraws_and_disables_animation() -> None:
    h = sim_app(low_bandwidth=True)
    assert h.app.animation_level == "none" and h.app.age_interval == 10.0
    async with h.app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, h.app)
        timers = {t.name: t for t in h.app._timers}
        assert timers["age-clock"]._interval == 10.0


async def test_cache_paints_before_the_first_refresh(app_paths: AppPaths) -> None:
    h = sim_app(app_paths, as_demo=False)  # a profile of one's own (a demo caches nothing)
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        rows = len(h.app.session.store)
        await pilot.press("q")
    cache = app_paths.cache_dir / "snapshots" / "demo.json"
    assert cache.is_file()
    h = sim_app(app_paths, autostart=False, as_demo=False)
    async with h.app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pilot.pause()
            if len(h.app.session.store) == rows:
                break
        screen = h.app.screen
        assert screen.table.row_count == rows
        panes = list(screen.query(ProviderPane))
        cached = [p for p in panes if p.view.from_cache]
        assert cached and all(str(p.border_subtitle) == "CACHED" for p in cached)
        assert "cached" in str(screen.query_one("#hdr-state").render())
        h.clock.advance(3600)  # an hour later on the platforms: some upgrades moved on
        await pilot.press("r")  # a manual refresh replaces the cache with live data
        await settle(pilot, h.app)
        changed = h.app.session.changed_keys_since_cache()
        assert changed and len(changed) < rows
        table = screen.table
        key = next(iter(changed))
        assert table.move_cursor_to_key(key)
        await pilot.pause()
        line = table.render_line(table.cursor_index - table.scroll_offset.y + 1).text
        assert line[1] == "*"  # marked as changed since the cached data
        unchanged = next(r.key for r in table.rows if r.key not in changed)
        assert table.move_cursor_to_key(unchanged)
        await pilot.pause()
        assert table.render_line(table.cursor_index - table.scroll_offset.y + 1).text[1] == " "
        assert not any(
            p.view.from_cache for p in screen.query(ProviderPane) if p.view.health == "ok"
        )


def live_footer_keys() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, FooterKey))


async def test_live_updates_do_not_rebuild_the_footer() -> None:
    """Each footer rebuild leaves its old keys alive (Textual prunes their watchers only
    when ``compact`` changes): refreshes must not rebuild it, a filter toggle must."""
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        before = live_footer_keys()
        changes = h.app.session.store.version
        for _ in range(4):
            h.clock.advance(20 * 60)  # jobs move on: rows change
            await pilot.press("r")
            await settle(pilot, h.app)
        assert h.app.session.store.version > changes  # the table really was updated
        assert live_footer_keys() == before
        assert "clear_filter" not in footer_actions(screen)
        await pilot.press("slash")
        await pilot.pause()
        assert "clear_filter" in footer_actions(screen)
        await pilot.press("escape")
        await pilot.pause()
        assert "clear_filter" not in footer_actions(screen)


def count_repaints(widget: Widget, into: list[str]) -> None:
    original = widget.refresh

    def counted(*regions: Region, **options: bool) -> Widget:
        into.append(type(widget).__name__)
        return original(*regions, **options)

    widget.refresh = counted  # type: ignore[method-assign]


async def test_an_idle_tick_repaints_no_pane_and_no_panel() -> None:
    """Over a slow link every repaint costs bytes: a clock tick with nothing new must not
    repaint a pane (border titles included), a pane's line or the device panel."""
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        repaints: list[str] = []
        for widget in [*screen.query(ProviderPane), *screen.query(PaneLine), screen.panel]:
            count_repaints(widget, repaints)
        for _ in range(3):
            screen.tick()
            screen.table.post_message(screen.table.ViewChanged(screen.table, 1, 1))
            await pilot.pause()
        assert repaints == []
        # a real change repaints the lines it touches (the age line's refresh mark), not
        # the panes around them
        await pilot.press("r")
        await settle(pilot, h.app)
        assert "PaneLine" in repaints and "ProviderPane" not in repaints
