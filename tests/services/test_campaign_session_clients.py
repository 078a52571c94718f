"""A campaign session that borrows the console's clients: one client (one rate limiter,
one token) per platform account, and closing the campaign session leaves them open."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.providers.base import ProviderClient
from fota_tui.services.campaigns import Journal, open_session
from fota_tui.services.session import ConsoleSession
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import demo_profile
from fota_tui.sim.dialects.oceanconnect import OceanConnectDialect
from fota_tui.sim.server import Simulator

ONENET_URI = "coap://fw.example.com/pkg/BC28JAR01A09.bin"
OC = "oceanconnect-demo"
ON = "onenet-demo"


async def no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
async def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = ManualClock()
    sim = Simulator.build(clock=clock, devices=120)
    profile = demo_profile(sim)
    journal = Journal(tmp_path, profile.name)
    console = ConsoleSession(profile, transport=sim.transport(), groups=journal, clock=clock)
    for client in console.clients.values():
        client.options.sleep = no_sleep  # type: ignore[attr-defined]
    yield sim, clock, profile, journal, console
    await console.stop(save=False)


def http_of(client: ProviderClient):  # type: ignore[no-untyped-def]
    """The adapter's httpx client (None when it has none open)."""
    return client._client  # type: ignore[attr-defined]


async def test_borrowed_clients_are_the_consoles_and_stay_open(world, tmp_path):
    sim, clock, profile, journal, console = world
    await console.refresh()
    oc_dialect = sim.dialects[ProviderKind.OCEANCONNECT]
    assert isinstance(oc_dialect, OceanConnectDialect)
    token = oc_dialect.grants["demo-oc-app"].access  # the console's login
    before = {name: http_of(c) for name, c in console.clients.items()}
    assert all(h is not None for h in before.values())

    session = open_session(
        profile, tmp_path, transport=sim.transport(), now=clock.now, clients=console.client,
        journal=journal,
    )  # fmt: skip
    for name in session.provider_names:
        assert session.service(name).client is console.client(name)
        assert session.borrowed(name)
    assert await session.service(OC).firmware()
    # No second OceanConnect login: the console's token is still the valid one.
    assert oc_dialect.grants["demo-oc-app"].access == token

    await session.aclose()
    for name, client in console.clients.items():
        assert http_of(client) is before[name] and not before[name].is_closed, name
    await console.refresh()
    assert all(v.health == "ok" and not v.stale for v in console.provider_views())
    assert oc_dialect.grants["demo-oc-app"].access == token


async def test_a_campaign_created_through_a_borrowed_client_lists_under_its_journal_id(
    world, tmp_path
):
    sim, clock, profile, journal, console = world
    await console.refresh()
    session = open_session(
        profile, tmp_path, transport=sim.transport(), now=clock.now, clients=console.client,
        journal=journal,
    )  # fmt: skip
    snap = console.snapshot(ON)
    assert snap is not None
    busy = {u.device_id for u in snap.upgrades if u.state.active}
    imeis = [d.imei or d.device_id for d in snap.devices if d.device_id not in busy][:2]
    spec = CampaignSpec(
        provider=ON,
        firmware=ONENET_URI,
        firmware_to="BC28JAR01A09",
        devices=imeis,
        end_at=clock.now() + timedelta(days=2),
        options={"retry": 2, "timeout": 30, "trigger_msg": 7},
    )
    service = session.service(ON)
    preview = await service.preview(spec)
    assert preview.ok, preview.problems
    submission = await service.submit(preview)
    assert submission.outcome == "created"
    await session.aclose()
    listed = {c.campaign_id for c in await console.client(ON).campaigns()}
    assert set(submission.campaign_ids) <= listed


async def test_a_declined_loan_builds_a_client_that_the_session_closes(world, tmp_path):
    sim, clock, profile, journal, console = world
    lent = {OC}
    session = open_session(
        profile,
        tmp_path,
        transport=sim.transport(),
        now=clock.now,
        clients=lambda name: console.client(name) if name in lent else None,
        journal=journal,
    )
    own = session.service(ON).client
    assert own is not console.client(ON) and not session.borrowed(ON)
    assert session.service(OC).client is console.client(OC)
    own.options.sleep = no_sleep  # type: ignore[attr-defined]
    assert (await own.health()).ok
    assert http_of(own) is not None
    assert (await console.client(OC).health()).ok
    await session.aclose()
    assert http_of(own) is None  # closed: it was the session's own
    assert http_of(console.client(OC)) is not None
    assert not http_of(console.client(OC)).is_closed
