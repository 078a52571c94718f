"""A workspace is a profile, opened: one client per provider (one rate limiter, one
token per platform account) shared by the read session and the write session, one
journal, and a broken provider that fails only for itself."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from fota_tui.errors import SecretError, UsageError
from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.providers.base import ProviderClient
from fota_tui.services import status_report
from fota_tui.services.workspace import Workspace
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import demo_profile
from fota_tui.sim.dialects.oceanconnect.dialect import OceanConnectDialect
from fota_tui.sim.server import Simulator

ONENET_URI = "coap://fw.example.com/pkg/BC28JAR01A09.bin"
OC = "oceanconnect-demo"
ON = "onenet-demo"
TS = "thingspace-demo"


async def no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
async def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = ManualClock()
    sim = Simulator.build(clock=clock, devices=120)
    profile = demo_profile(sim)
    workspace = Workspace(profile, tmp_path, transport=sim.transport(), now=clock.now)
    console = workspace.console(clock=clock)
    for client in console.clients.values():
        client.options.sleep = no_sleep  # type: ignore[attr-defined]
    yield sim, clock, workspace, console
    await console.stop(save=False)
    await workspace.aclose()


def http_of(client: ProviderClient):  # type: ignore[no-untyped-def]
    """The adapter's httpx client (None when it has none open)."""
    return client._client  # type: ignore[attr-defined]


def onenet_spec(console, clock, name: str | None = None) -> CampaignSpec:  # type: ignore[no-untyped-def]
    snap = console.snapshot(ON)
    assert snap is not None
    busy = {u.device_id for u in snap.upgrades if u.state.active}
    imeis = [d.imei or d.device_id for d in snap.devices if d.device_id not in busy][:2]
    return CampaignSpec(
        provider=ON,
        name=name,
        firmware=ONENET_URI,
        firmware_to="BC28JAR01A09",
        devices=imeis,
        end_at=clock.now() + timedelta(days=2),
        options={"retry": 2, "timeout": 30, "trigger_msg": 7},
    )


async def test_read_and_write_sessions_share_the_workspaces_clients(world):
    sim, _clock, workspace, console = world
    await console.refresh()
    oc_dialect = sim.dialects[ProviderKind.OCEANCONNECT]
    assert isinstance(oc_dialect, OceanConnectDialect)
    token = oc_dialect.grants["demo-oc-app"].access  # the console's login
    before = {name: http_of(c) for name, c in console.clients.items()}
    assert all(h is not None for h in before.values())

    session = workspace.campaigns()
    for name in session.provider_names:
        assert session.service(name).client is console.client(name) is workspace.client(name)
    assert await session.service(OC).firmware()
    # No second OceanConnect login: the console's token is still the valid one.
    assert oc_dialect.grants["demo-oc-app"].access == token

    await session.aclose()
    await console.stop(save=False)  # neither session closes the workspace's clients
    for name, client in console.clients.items():
        assert http_of(client) is before[name] and not before[name].is_closed, name
    await workspace.aclose()
    assert all(http_of(c) is None for c in console.clients.values())


async def test_a_campaign_created_by_the_write_session_lists_under_its_journal_name(
    world, tmp_path
):
    sim, clock, workspace, console = world
    await console.refresh()
    service = workspace.campaigns().service(ON)
    preview = await service.preview(onenet_spec(console, clock, name="Q4 meters"))
    assert preview.ok, preview.problems
    submission = await service.submit(preview)
    assert submission.outcome == "created"
    await console.refresh()
    listed = {c.campaign_id: c.name for c in console.campaigns()}
    assert listed[submission.campaign_ids[0]] == "Q4 meters"

    # A later `fota-tui status` opens the same profile: the journal's name, not the
    # platform's "Cached commands".
    later = Workspace(workspace.profile, tmp_path, transport=sim.transport(), now=clock.now)
    try:
        report = await status_report.collect(later, providers=[ON])
    finally:
        await later.aclose()
    (result,) = report.providers
    assert result.snapshot is not None
    names = {c.campaign_id: c.name for c in result.snapshot.campaigns}
    assert names[submission.campaign_ids[0]] == "Q4 meters"
    assert "Q4 meters" in status_report.render_table(report, width=None)


async def test_a_provider_that_cannot_be_built_fails_alone_and_once(tmp_path, monkeypatch):
    sim = Simulator.build(clock=ManualClock(), devices=40)
    profile = demo_profile(sim)
    ts = profile.provider(TS)
    broken = ts.model_copy(update={"app_secret": "env:FOTA_TEST_MISSING_SECRET"})
    profile = profile.model_copy(
        update={"providers": [broken if p.name == TS else p for p in profile.providers]}
    )
    monkeypatch.delenv("FOTA_TEST_MISSING_SECRET", raising=False)
    built: list[str] = []

    def factory(cfg, **options):  # type: ignore[no-untyped-def]
        from fota_tui.providers.registry import build_client

        built.append(cfg.name)
        return build_client(cfg, **options)

    workspace = Workspace(profile, tmp_path, transport=sim.transport(), client_factory=factory)
    try:
        for _ in range(2):
            with pytest.raises(SecretError, match="FOTA_TEST_MISSING_SECRET"):
                workspace.client(TS)
        assert built == [TS]  # the error is kept: not built (and not asked) again
        assert await workspace.campaigns().service(OC).firmware()
        console = workspace.console()
        assert set(console.clients) == {p.name for p in profile.providers} - {TS}
        with pytest.raises(UsageError, match="Secret not available"):
            console.client(TS)
        report = await status_report.collect(workspace)
        failed = {p.name for p in report.providers if not p.ok}
        assert failed == {TS} and report.exit_code == 2  # a config error
    finally:
        await workspace.aclose()


async def test_read_only_is_decided_once_for_both_sessions(tmp_path):
    sim = Simulator.build(clock=ManualClock(), devices=40)
    workspace = Workspace(demo_profile(sim), tmp_path, transport=sim.transport(), read_only=True)
    try:
        assert workspace.console().read_only
        service = workspace.campaigns().service(ON)
        with pytest.raises(UsageError, match="read-only"):
            await service.cancel("anything")
    finally:
        await workspace.aclose()
