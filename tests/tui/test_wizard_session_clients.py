"""The wizard and the campaign operations use the console's own clients (one client, one
rate limiter, one token per platform account), and closing them leaves those open."""

from __future__ import annotations

from typing import Any

from wizard_harness import PROVIDER, start, wait_for, wizard, wizard_app

from fota_tui.config.paths import resolve_paths
from fota_tui.models import ProviderKind
from fota_tui.sim.demo import build_demo
from fota_tui.sim.dialects.oceanconnect.dialect import OceanConnectDialect
from fota_tui.tui.app import make_app
from fota_tui.tui.screens.dashboard import DashboardScreen
from fota_tui.tui.screens.wizard import open_wizard
from fota_tui.tui.screens.wizard_session import campaign_session

OC = ProviderKind.OCEANCONNECT


def http_of(client: Any) -> Any:
    return client._client  # the adapter's httpx client (None when closed)


async def test_the_wizard_uses_the_consoles_clients_and_leaves_them_open() -> None:
    h = wizard_app()
    dialect = h.demo.simulator.dialects[OC]
    assert isinstance(dialect, OceanConnectDialect)
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        console = h.app.session
        token = dialect.grants[h.app.session.profile.provider(PROVIDER[OC]).app_id].access
        opened = {name: http_of(c) for name, c in console.clients.items()}

        screen = open_wizard(h.app, provider=PROVIDER[OC])
        assert screen is not None
        await wait_for(pilot, lambda: h.app.screen is screen and screen.form.provider)
        w = wizard(h.app)
        assert w.campaigns is not None
        for name in console.provider_names:
            assert w.campaigns.service(name).client is console.client(name), name
        assert await w.campaigns.service(PROVIDER[OC]).firmware()

        while h.app.screen is w:  # Esc back to the dashboard closes the wizard's session
            await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(h.app.screen, DashboardScreen))
        await wait_for(pilot, lambda: not w.is_attached)
        for name, client in console.clients.items():
            assert http_of(client) is opened[name] and not opened[name].is_closed, name
        await console.refresh()
        assert all(v.health == "ok" and not v.stale for v in console.provider_views())
        # One OceanConnect login for the console and the wizard: its token is still valid.
        assert dialect.grants[console.profile.provider(PROVIDER[OC]).app_id].access == token


async def test_campaign_operations_borrow_the_consoles_clients() -> None:
    h = wizard_app(devices=40)
    console = h.app.session
    session = campaign_session(h.app)  # what cancel / add / remove / retry open
    assert session.journal is h.journal
    for name in console.provider_names:
        assert session.service(name).client is console.client(name), name
    await session.aclose()
    await console.refresh()  # the console's clients still work (no app: read the schedules)
    assert all(s.healthy and not s.failures for s in console.scheduler.schedules.values())
    await console.stop(save=False)


async def test_a_console_without_a_data_dir_shares_every_client_too() -> None:
    """Without ``paths`` the journal is in the default data dir; the console's clients
    list from it, so all four are shared with the campaign session."""
    demo = build_demo(seed=3, devices=40)
    app = make_app(demo.profile, transport=demo.transport, autostart=False)
    session = campaign_session(app)
    for name in app.session.provider_names:
        assert session.service(name).client is app.session.client(name), name
    assert app.workspace.journal.folder.is_relative_to(resolve_paths().data_dir)
    await session.aclose()
    await app.session.stop(save=False)
    await app.workspace.aclose()
