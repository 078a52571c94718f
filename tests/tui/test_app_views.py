"""Campaigns, campaign detail, help, the error screen, the palette and profile switching."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import OptionList
from tui_app_harness import settle, sim_app

from fota_tui.config.paths import AppPaths
from fota_tui.config.store import ConfigStore
from fota_tui.models import ProviderHealth, ProviderKind
from fota_tui.services.campaign_query import sort_campaigns
from fota_tui.services.fleet import FleetDiff
from fota_tui.services.scheduler import HealthChanged, RefreshFailed, RefreshSucceeded
from fota_tui.services.session import Applied, CacheLoaded
from fota_tui.services.snapshot import ProviderSnapshot
from fota_tui.tui.messages import SessionUpdate
from fota_tui.tui.screens.campaigns import CampaignDetailScreen, CampaignsScreen, campaign_key
from fota_tui.tui.screens.dashboard import DashboardScreen
from fota_tui.tui.screens.device_detail import DeviceDetailScreen
from fota_tui.tui.screens.error import ErrorScreen
from fota_tui.tui.screens.help import HelpScreen
from fota_tui.tui.widgets.status_header import StatusHeader

EVIL = "[bold red]pwn[/] \x1b]52;c;AAAA\x07\x1b[2J"
SHOWN = "[bold red]pwn[/] ␛]52;c;AAAA␇␛[2J"


async def test_campaigns_view_lists_all_and_opens_one() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        await pilot.press("c")
        screen = h.app.screen
        assert isinstance(screen, CampaignsScreen)
        campaigns = sort_campaigns(h.app.session.campaigns(), "attention")
        options = screen.query_one(OptionList)
        assert options.option_count == len(campaigns) > 0
        assert len({c.provider for c in campaigns}) >= 2  # across providers
        assert [o.id for o in options.options] == [campaign_key(c) for c in campaigns]
        first = campaigns[0]
        line = str(options.get_option_at_index(0).prompt)
        assert first.campaign_id[:6] in line and first.state.value[:6] in line
        await pilot.press("enter")
        detail = h.app.screen
        assert isinstance(detail, CampaignDetailScreen)
        assert (detail.provider, detail.campaign_id) == (first.provider, first.campaign_id)
        await h.app.workers.wait_for_complete()
        await pilot.pause()
        assert detail.loads >= 1 and detail.error is None and detail.detail is not None
        table = detail.panel.table
        assert table.row_count == len(detail.detail.devices) > 0
        assert {r.campaign_id for r in table.rows} == {first.campaign_id}
        summary = str(detail.query_one("#campaign-detail").render())
        assert "firmware" in summary and first.state.value in summary
        # the same table keys work here: select and copy
        await pilot.press("space", "y")
        assert h.app.clipboard == table.rows[0].device_id
        await pilot.press("enter")
        assert isinstance(h.app.screen, DeviceDetailScreen)
        await pilot.press("escape", "escape")
        assert isinstance(h.app.screen, CampaignsScreen)
        await pilot.press("d")
        assert isinstance(h.app.screen, DashboardScreen)


async def test_campaign_list_follows_live_updates_and_keeps_cursor() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        await pilot.press("c", "down")
        screen = h.app.screen
        assert isinstance(screen, CampaignsScreen)
        options = screen.query_one(OptionList)
        kept = options.highlighted_option.id  # type: ignore[union-attr]
        h.clock.advance(600)
        await pilot.press("r")
        await settle(pilot, h.app)
        assert options.highlighted_option.id == kept  # type: ignore[union-attr]


async def test_help_lists_keys_for_each_screen() -> None:
    h = sim_app()
    async with h.app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, h.app)
        await pilot.press("question_mark")
        help_screen = h.app.screen
        assert isinstance(help_screen, HelpScreen)
        text = "\n".join(str(s.render()) for s in help_screen.query("Static"))
        assert text.startswith("Dashboard  (this screen)")
        for words in ("Campaigns", "Campaign detail", "Device detail", "Everywhere", "Filter",
                      "Export", "Copy ids", "Refresh", "Pause", "switch profile"):  # fmt: skip
            assert words in text
        assert "New campaign" in text  # the wizard is offered where writes are allowed
        await pilot.press("escape")
        assert isinstance(h.app.screen, DashboardScreen)
        await pilot.press("f1")
        assert isinstance(h.app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(h.app.screen, DashboardScreen)


async def test_unexpected_worker_error_shows_copyable_traceback_and_app_stays_up() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)

        async def broken() -> None:
            raise RuntimeError("adapter exploded")

        h.app.screen.run_worker(broken(), exit_on_error=False)
        await pilot.pause()
        await pilot.pause()
        screen = h.app.screen
        assert isinstance(screen, ErrorScreen)
        assert "RuntimeError: adapter exploded" in screen.traceback
        await pilot.press("y")
        assert "adapter exploded" in h.app.clipboard and "Traceback" in h.app.clipboard
        await pilot.press("escape")
        assert isinstance(h.app.screen, DashboardScreen) and h.app.is_running


async def test_user_action_failure_notifies_with_title_and_message() -> None:
    from fota_tui.errors import ProviderRejected

    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)

        async def rejected() -> None:
            raise ProviderRejected("aovx-demo", "firmware not found", code="404")

        h.app.screen.run_worker(rejected(), exit_on_error=False)
        await pilot.pause()
        await pilot.pause()
        assert ("Rejected", "firmware not found") in h.app.notifications_sent
        assert isinstance(h.app.screen, DashboardScreen)


async def test_palette_offers_every_action_and_switches_profile(app_paths: AppPaths) -> None:
    h = sim_app(app_paths, as_demo=False)
    other = h.demo.profile.model_copy(
        update={"name": "lab2", "label": "Second lab", "environment": "production"}
    )
    ConfigStore(app_paths).save_profile(other)
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        titles = {c.title for c in h.app.get_system_commands(h.app.screen)}
        for title in ("Refresh now", "Pause / resume polling", "Campaigns", "Devices", "Help",
                      "Filter devices", "Export view", "Copy device ids", "Sort by state",
                      "Switch profile: lab2", "Theme", "Quit"):  # fmt: skip
            assert title in titles
        assert any(t.startswith("Theme: ") for t in titles)
        await pilot.press("c")
        worker = h.app.switch_profile("lab2")
        await worker.wait()
        await settle(pilot, h.app)
        assert h.app.session.profile.name == "lab2"
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen) and len(h.app.screen_stack) == 2
        header = screen.query_one(StatusHeader)
        assert header.has_class("-production")
        assert str(header.query_one("#hdr-env").render()) == "PRODUCTION"
        assert "Second lab" in str(header.query_one("#hdr-title").render())
        assert screen.table.row_count == len(h.app.session.store) > 0
        titles = {c.title for c in h.app.get_system_commands(h.app.screen)}
        assert "Switch profile: demo" in titles and "Switch profile: lab2" not in titles
        assert all(v.health == "ok" for v in h.app.session.provider_views() if not v.build_error)
        # a broken profile file: a notification naming the file, and the session stays
        (app_paths.profiles_dir / "broken.toml").write_text("refresh_interval = 'x'\n")
        await h.app.switch_profile("broken").wait()
        await pilot.pause()
        assert h.app.session.profile.name == "lab2"
        title, message = h.app.notifications_sent[-1]
        assert title == "Configuration error" and "broken.toml" in message


async def test_theme_choice_is_saved(app_paths: AppPaths) -> None:
    h = sim_app(app_paths)
    async with h.app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, h.app)
        h.app.theme = "nord"
        await pilot.pause()
    assert ConfigStore(app_paths).load_config().preferences.theme == "nord"


async def test_platform_text_is_shown_literally_everywhere() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        name = h.app.session.provider_names[-1]
        snap = h.app.session.snapshot(name)
        assert snap is not None and snap.campaigns and snap.upgrades
        campaign = snap.campaigns[0].model_copy(update={"name": EVIL, "provider_reason": EVIL})
        upgrade = snap.upgrades[0].model_copy(
            update={"provider_reason": EVIL, "provider_status_raw": EVIL}
        )
        evil = snap.model_copy(update={"campaigns": (campaign, *snap.campaigns[1:]),
                                       "upgrades": (upgrade, *snap.upgrades[1:])})  # fmt: skip
        # the scheduler's own callback: session bookkeeping, then a message to the app
        h.app.session._on_event(RefreshSucceeded(name, evil))
        h.app.session._on_event(RefreshFailed(name, _error(name), 1, 5.0))
        await pilot.pause()
        await pilot.pause()
        pane = h.app.screen.grid.pane(name)  # type: ignore[attr-defined]
        assert SHOWN in pane.text
        await pilot.press("c")
        line = next(str(o.prompt) for o in h.app.screen.query_one(OptionList).options
                    if o.id == campaign_key(campaign))  # fmt: skip
        assert "[bold red]pwn" in line and "\x1b" not in line
        h.app.push_screen(CampaignDetailScreen(name, campaign.campaign_id))
        await h.app.workers.wait_for_complete()
        await pilot.pause()
        h.app.screen.detail = None  # show the snapshot's (evil) record
        h.app.screen.show_summary()
        summary = str(h.app.screen.query_one("#campaign-detail").render())
        assert SHOWN in summary and "\x1b" not in summary
        row = next(r for r in h.app.session.store if r.key == (name, upgrade.device_id))
        h.app.open_device(row.key)
        await pilot.pause()
        facts = str(h.app.screen.query_one("#device-facts").render())
        assert SHOWN in facts
        for text in (summary, facts, pane.text):
            assert "\x07" not in text and "\x1b" not in text


def _error(name: str) -> Exception:
    from fota_tui.errors import ProviderProtocolError

    return ProviderProtocolError(name, EVIL)


def test_snapshot_messages_replace_older_ones_health_never_dropped() -> None:
    """Queued updates coalesce, but nothing the session changed goes unpainted: the
    newer applied snapshot carries both diffs."""
    now = datetime(2026, 11, 22, tzinfo=UTC)
    health = ProviderHealth(provider="a", kind=ProviderKind.AOVX, ok=True, checked_at=now)
    snap = ProviderSnapshot(provider="a", kind=ProviderKind.AOVX, fetched_at=now, health=health)

    def applied(provider: str, source: object, *keys: str) -> SessionUpdate:
        diff = FleetDiff(added=frozenset((provider, k) for k in keys), version=1)
        return SessionUpdate(Applied(provider, source, diff))  # type: ignore[arg-type]

    live_a = applied("a", RefreshSucceeded("a", snap), "d1")
    live_a2 = applied("a", RefreshSucceeded("a", snap), "d2")
    cached_a = applied("a", CacheLoaded("a", snap, now), "d0")
    live_b = applied("b", RefreshSucceeded("b", snap.model_copy(update={"provider": "b"})), "x")
    failed_a = SessionUpdate(RefreshFailed("a", _error("a"), 1, 5.0))  # type: ignore[arg-type]
    down_a = SessionUpdate(HealthChanged("a", False, "x"))
    assert cached_a.can_replace(live_a)  # coalesced: the live one now carries d0 too
    assert live_a.diff is not None and live_a.diff.added == {("a", "d0"), ("a", "d1")}
    assert live_a.can_replace(live_a2)
    assert live_a2.diff is not None and live_a2.diff.added == {("a", d) for d in ("d0", "d1", "d2")}
    assert not live_a.can_replace(live_b)  # other provider
    assert not live_a.can_replace(failed_a)  # a failure never drops data
    assert failed_a.can_replace(live_a) and failed_a.can_replace(down_a)
    assert not down_a.can_replace(live_a)  # each transition is a notification
