"""``:`` jumps anywhere with completion; ``l`` keeps every notification; the palette lists
every action of the screen it was opened on, campaign operations included."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static
from tui_app_harness import settle, sim_app

from fota_tui.tui.screens.activity import ActivityScreen
from fota_tui.tui.screens.campaigns import CampaignDetailScreen, CampaignsScreen
from fota_tui.tui.screens.dashboard import DashboardScreen
from fota_tui.tui.screens.device_detail import DeviceDetailScreen
from fota_tui.tui.screens.jump import JumpPrompt, resolve_jump
from fota_tui.tui.screens.provider import ProviderScreen


async def _jump(pilot: object, text: str) -> None:
    await pilot.press("colon")  # type: ignore[attr-defined]
    await pilot.press(*text)  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("what", "screen_type"),
    [
        ("campaigns", CampaignsScreen),
        ("provider oceanconnect-demo", ProviderScreen),
        ("log", ActivityScreen),
    ],
)
async def test_colon_opens_views_and_providers(what: str, screen_type: type) -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        await _jump(pilot, what)
        assert isinstance(h.app.screen, screen_type)


async def test_colon_opens_a_device_by_imei_and_a_campaign_by_name_with_completion() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        session = h.app.session
        row = next(r for r in session.store if r.provider == "onenet-demo")
        await _jump(pilot, row.device_id)
        assert isinstance(h.app.screen, DeviceDetailScreen) and h.app.screen.key == row.key
        await pilot.press("d")
        named = next(c for c in session.campaigns() if c.name and c.name.isascii())
        await pilot.press("colon", *named.name[:5])
        prompt = h.app.screen
        assert isinstance(prompt, JumpPrompt)
        field = prompt.query_one(Input)
        await pilot.pause()
        assert field._suggestion.lower().startswith(named.name[:5].lower())  # completion
        await pilot.press("right", "enter")  # → at the end accepts the completion
        await pilot.pause()
        detail = h.app.screen
        assert isinstance(detail, CampaignDetailScreen)  # the first campaign of that prefix
        opened = session.find_campaign(detail.provider, detail.campaign_id)
        assert opened and (opened.name or "").lower().startswith(named.name[:5].lower())


async def test_colon_says_when_nothing_matches_and_escape_leaves_things_as_they_were() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        dashboard = h.app.screen
        await _jump(pilot, "zzz-no-such-thing")
        prompt = h.app.screen
        assert isinstance(prompt, JumpPrompt)
        assert "zzz-no-such-thing" in str(prompt.query_one("#jump-error", Static).render())
        await pilot.press("escape")
        assert h.app.screen is dashboard


async def test_a_free_word_becomes_a_device_filter_and_problems_is_a_view() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        session = h.app.session
        assert resolve_jump(session, "timeout") is not None
        assert resolve_jump(session, "") is None
        await _jump(pilot, "problems")
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        assert screen.table.filter_query.text == "state:attention"


async def test_activity_log_keeps_what_the_toasts_said() -> None:
    h = sim_app()
    cfg = h.demo.profile.providers[0]
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        h.demo.simulator.faults.set(cfg.kind, malformed=1.0)
        await pilot.press("r")
        await settle(pilot, h.app)
        await pilot.press("space", "y")  # a copy says so in a toast
        await pilot.pause()
        await pilot.press("l")
        log = h.app.screen
        assert isinstance(log, ActivityScreen)
        text = str(log.query_one("#activity", Static).render())
        assert "Provider failing" in text and cfg.name in text
        titles = [e.title for e in h.app.activity.entries]
        assert titles.count("Provider failing") == 1 and len(titles) >= 2
        assert text.index(titles[-1]) < text.index(titles[0])  # newest first


async def test_palette_lists_jump_log_providers_and_campaign_operations() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        titles = {c.title for c in h.app.get_system_commands(h.app.screen)}
        for title in ("Jump to…", "Activity log", "Only problems", "Provider: aovx-demo"):
            assert title in titles
        await pilot.press("c")
        titles = {c.title for c in h.app.get_system_commands(h.app.screen)}
        assert {"Cancel campaign", "Retry failed"} <= titles


async def test_enter_takes_the_completion_shown_and_a_provider_prefix_is_enough() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        named = next(c for c in h.app.session.campaigns() if c.name and c.name.isascii())
        await pilot.press("colon", *named.name[:6])
        await pilot.pause()
        await pilot.press("enter")  # no →: Enter takes what the prompt shows
        await pilot.pause()
        assert isinstance(h.app.screen, CampaignDetailScreen)
        await pilot.press("d")
        await _jump(pilot, "provider oceanc")
        assert isinstance(h.app.screen, ProviderScreen)
        await pilot.press("d")
        await _jump(pilot, "provider nope")
        error = str(h.app.screen.query_one("#jump-error", Static).render())
        assert "Providers: thingspace-demo" in error
