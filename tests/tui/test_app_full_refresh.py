"""Incremental refresh in the console: r reads what can have changed, ctrl+r everything,
the provider view says when everything was last read and why, and a pane says when a
refresh had to read everything because an answer did not match what was known."""

from __future__ import annotations

from textual.widgets import Static
from tui_app_harness import settle, sim_app

from fota_tui.models import ProviderKind
from fota_tui.tui.screens.dashboard import DashboardScreen
from fota_tui.tui.screens.provider import ProviderScreen

KIND = ProviderKind.ONENET


async def test_r_reads_what_changed_and_ctrl_r_reads_everything() -> None:
    h = sim_app()
    name = next(p.name for p in h.demo.profile.providers if p.kind is KIND)
    sim = h.demo.simulator
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        first = h.app.session.snapshot(name)
        assert first is not None and first.health.full_read
        assert first.health.sweep is not None and first.health.sweep.reason == "first read"
        devices = len(first.devices)

        before = sim.requests[KIND]
        await pilot.press("r")
        await settle(pilot, h.app)
        again = h.app.session.snapshot(name)
        assert again is not None and not again.health.full_read
        assert sim.requests[KIND] - before < devices  # not one history per device

        before = sim.requests[KIND]
        await pilot.press("ctrl+r")
        await settle(pilot, h.app)
        full = h.app.session.snapshot(name)
        assert full is not None and full.health.full_read
        assert full.health.sweep is not None and full.health.sweep.reason == "asked"
        assert sim.requests[KIND] - before >= devices
        assert any(t == "Full refresh" for t, _ in h.app.notifications_sent)

        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        screen.grid.pane(name).focus()
        await pilot.press("enter")
        provider = h.app.screen
        assert isinstance(provider, ProviderScreen)
        facts = str(provider.query_one("#provider-facts", Static).render())
        assert "last full read" in facts and "(asked)" in facts


async def test_a_pane_says_when_an_answer_forced_a_full_read() -> None:
    h = sim_app()
    name = next(p.name for p in h.demo.profile.providers if p.kind is KIND)
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        # A history answer leaves out a command this console already knows.
        h.demo.simulator.faults.script(KIND, "gap", path_contains="/nbiot/offline/history")
        await pilot.press("r")
        await settle(pilot, h.app)
        view = h.app.session.provider_view(name)
        notes = [w for w in view.warnings if w.startswith("read in full:")]
        assert notes and "did not match what was known" in notes[0]
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        pane = " ".join(str(screen.grid.pane(name).render()).split())
        shown = " ".join(
            " ".join(str(w.render()).split()) for w in screen.grid.pane(name).query(Static)
        )
        assert "read in full" in pane + shown
        await pilot.press("r")  # the next refresh reads incrementally again: the note goes
        await settle(pilot, h.app)
        assert not [w for w in h.app.session.provider_view(name).warnings if "read in full" in w]
