"""ThingSpaceClient against the simulator over HTTP: data matches the fleet, auth refresh and
lockout safety, throttling, bad bodies, retries, writes, and each documented quirk."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from provider_transports import Overlap
from pydantic import SecretStr

from fota_tui.errors import (
    ProviderAuthError,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRejected,
    ProviderUnavailable,
)
from fota_tui.models import (
    AuthState,
    CampaignSpec,
    CampaignState,
    ProviderKind,
    UpgradeState,
)
from fota_tui.providers.base import ProviderClient
from fota_tui.providers.http import ClientOptions
from fota_tui.providers.thingspace.client import ThingSpaceClient
from fota_tui.services.snapshot import fetch_snapshot
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.thingspace.dialect import ThingSpaceDialect
from fota_tui.sim.fleet import Phase, SimJob
from fota_tui.sim.server import Simulator

KIND = ProviderKind.THINGSPACE
CREDS = ThingSpaceDialect.credentials
USER = CREDS["username"]


class Rewrite(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and edits matching JSON answers (odd platforms)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, part: str, edit: Callable[[Any], Any]):
        self.inner, self.part, self.edit = inner, part, edit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.part not in request.url.path or response.status_code != 200:
            return response
        body = self.edit(json.loads(await response.aread()))
        return httpx.Response(200, content=json.dumps(body).encode(), request=request,
                              headers={"content-type": "application/json"})  # fmt: skip


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator.build(kinds=[KIND], clock=clock, devices=200)


@pytest.fixture
def dialect(sim: Simulator) -> ThingSpaceDialect:
    d = sim.dialects[KIND]
    assert isinstance(d, ThingSpaceDialect)
    return d


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def make(sim: Simulator, clock: ManualClock, sleeps: list[float]) -> Any:
    made: list[ThingSpaceClient] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def build(transport: Any = None, base_url: str | None = None, status_map: Any = None,
              secret: str = CREDS["app_secret"], loopback: bool = False,
              **kwargs: Any) -> ThingSpaceClient:  # fmt: skip
        options = ClientOptions(
            name="ts",
            base_url=base_url or sim.base_urls()[KIND],
            transport=None if loopback else (transport or sim.transport()),
            sleep=fake_sleep,
            status_map=status_map or {},
        )
        client = ThingSpaceClient(
            options, account=CREDS["account"], app_key=CREDS["app_key"],
            app_secret=SecretStr(secret), username=USER, password=SecretStr(CREDS["password"]),
            clock=clock.now, **kwargs,
        )  # fmt: skip
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make: Any) -> ThingSpaceClient:
    client: ThingSpaceClient = make()
    return client


def jobs(dialect: ThingSpaceDialect, api: str) -> list[SimJob]:
    return [j for j in dialect.fleet.jobs[KIND].values() if j.meta["api"] == api]


def free_gm01q(dialect: ThingSpaceDialect, n: int) -> list[str]:
    fleet = dialect.fleet
    return [
        d.device_id
        for d in fleet.devices[KIND].values()
        if d.model == "GM01Q" and d.extra["license"] and d.extra["fota_eligible"]
        and fleet.active_job_of(d) is None
    ][:n]  # fmt: skip


def gm01q_image(dialect: ThingSpaceDialect) -> str:
    return next(f.name for f in dialect.fleet.firmware[KIND] if f.model == "GM01Q")


# -- the contract, matched against the fleet ------------------------------------------
async def test_client_implements_the_protocol(client):
    assert isinstance(client, ProviderClient)
    caps = client.capabilities
    assert caps.cancel_campaign and caps.abort_campaign and caps.add_remove_devices
    assert caps.time_windows


async def test_devices_match_the_fleet_across_pages(client, dialect):
    dialect.page_sizes["v1_devices"] = 30
    devices = [d async for d in client.devices()]
    fleet = dialect.fleet.devices[KIND]
    assert sorted(d.device_id for d in devices) == sorted(fleet)
    now = dialect.fleet.now()
    for d in devices:
        sim_device = fleet[d.device_id]
        assert d.imei == d.device_id and (d.make, d.model) == (sim_device.make, sim_device.model)
        version, upgraded = dialect.last_upgrade(sim_device, now)
        assert d.firmware == version
        assert (d.updated_at is None) == (upgraded is None)


async def test_campaigns_match_the_fleet(client, dialect):
    dialect.page_sizes["v3_campaigns"] = 2
    dialect.page_sizes["v3_devices"] = 4
    now = dialect.fleet.now()
    campaigns = {c.campaign_id: c for c in await client.campaigns()}
    v1_live = [j for j in jobs(dialect, "v1") if j.cancelled_at is None]
    assert set(campaigns) == {j.job_id for j in jobs(dialect, "v3") + v1_live}
    for job in jobs(dialect, "v3") + v1_live:
        campaign = campaigns[job.job_id]
        phases = [s.phase for s in job.phases(now).values()]
        assert campaign.total == len(phases)
        assert campaign.counts[UpgradeState.SUCCEEDED] == phases.count(Phase.SUCCEEDED)
        assert campaign.firmware_to == job.firmware.version
    names = {c.name for c in campaigns.values()}
    assert any(n and not n.isascii() for n in names)  # "Piloto São Paulo …"


async def test_upgrades_cover_every_live_target(client, dialect):
    now = dialect.fleet.now()
    records = [u async for u in client.upgrades()]
    expected = sum(
        len(j.live_targets(now))
        for j in jobs(dialect, "v3") + [j for j in jobs(dialect, "v1") if j.cancelled_at is None]
    )
    assert len(records) == expected
    assert all(isinstance(r.device_id, str) and len(r.device_id) == 15 for r in records)
    assert {r.state for r in records} >= {UpgradeState.SUCCEEDED, UpgradeState.FAILED,
                                          UpgradeState.QUEUED, UpgradeState.CANCELLED}  # fmt: skip


async def test_firmware_merges_v1_and_v3(client, dialect):
    images = await client.firmware()
    assert {f.name for f in images} == {f.name for f in dialect.fleet.firmware[KIND]}
    assert {f.protocol for f in images} == {"LWM2M", "OMA-DM"}
    assert all(f.released_at is not None and f.from_version for f in images)


async def test_campaign_detail_for_v3_and_v1(client, dialect):
    for job in (jobs(dialect, "v3")[0], jobs(dialect, "v1")[0]):
        detail = await client.campaign(job.job_id)
        assert detail.campaign.campaign_id == job.job_id
        assert {d.device_id for d in detail.devices} == set(job.targets)
    with pytest.raises(ProviderNotFound):
        await client.campaign("00000000-0000-4000-a000-000000000000")


async def test_device_history_is_newest_first_and_keeps_campaign_ids(client, dialect):
    counts: dict[str, int] = {}
    for job in dialect.fleet.jobs[KIND].values():
        for device_id in job.targets:
            counts[device_id] = counts.get(device_id, 0) + 1
    busy = max(counts, key=lambda k: counts[k])
    history = await client.device_history(busy)
    assert len(history) == counts[busy]
    assert all(h.campaign_id for h in history)  # "id" and "campaignId" both land here
    stamps = [h.updated_at or h.created_at for h in history]
    assert all(a >= b for a, b in itertools.pairwise(stamps) if a and b)
    with pytest.raises(ProviderNotFound):
        await client.device_history("000000000000000")


async def test_history_reads_both_campaign_id_spellings(client, dialect):
    id_keyed = [j for j in jobs(dialect, "v3") if j.meta["history_key"] == "id"]
    job = next(j for j in id_keyed if j.targets)
    device_id = next(iter(job.targets))
    assert job.job_id in {h.campaign_id for h in await client.device_history(device_id)}


# -- auth ----------------------------------------------------------------------------
async def test_expired_oauth_token_and_session_are_renewed_once(client, dialect, clock):
    await client.firmware()
    assert (client.auth.token_requests, client.auth.logins) == (1, 1)
    clock.advance(21 * 60)  # session idle-expired, OAuth token still good
    await client.firmware()
    assert (client.auth.token_requests, client.auth.logins) == (1, 2)
    clock.advance(3601)  # both gone
    await client.firmware()
    assert (client.auth.token_requests, client.auth.logins) == (2, 3)
    assert dialect.tokens.token_issues == 2


async def test_token_expiry_fault_is_recovered(client, sim, dialect):
    await client.firmware()
    sim.faults.script(KIND, "token_expiry", path_contains="/fota/")
    images = await client.firmware()
    assert images and dialect.tokens.token_issues == 2 and dialect.tokens.login_attempts == 2


async def test_tokens_expiring_again_during_the_repair_are_repaired_again(client, sim, dialect):
    """Another request's answer can expire the tokens this one just renewed (here: the
    platform expires them while answering the re-login): the call still succeeds, with
    no refused login counted towards the lockout."""
    await client.firmware()
    sim.faults.script(KIND, "token_expiry", path_contains="/fota/")
    sim.faults.script(KIND, "token_expiry", path_contains="/session/login")
    images = await client.firmware()
    assert images and dialect.tokens.token_issues == 3
    assert client.auth._failures == 0


async def test_many_concurrent_calls_after_expiry_log_in_once(client, dialect):
    job = jobs(dialect, "v3")[0]
    await client.campaign(job.job_id)
    dialect.expire_tokens()
    before = (dialect.tokens.token_issues, dialect.tokens.login_attempts)
    results = await asyncio.gather(*(client.campaign(job.job_id) for _ in range(30)))
    assert all(r.campaign.campaign_id == job.job_id for r in results)
    after = (dialect.tokens.token_issues, dialect.tokens.login_attempts)
    assert after == (before[0] + 1, before[1] + 1)


async def test_refused_relogin_is_shared_and_never_reaches_the_lockout(client, dialect):
    await client.firmware()
    dialect.tokens.passwords[USER] = "rotated-by-someone-else"
    dialect.tokens.sessions.clear()
    results = await asyncio.gather(*(client.firmware() for _ in range(20)), return_exceptions=True)
    assert all(isinstance(r, ProviderAuthError) for r in results)
    assert dialect.tokens.failed[USER] == 1  # one login for twenty calls
    for _ in range(4):  # new calls: one more try, then the client stops trying
        with pytest.raises(ProviderAuthError):
            await client.firmware()
    assert dialect.tokens.failed[USER] == 2 and USER not in dialect.tokens.locked
    dialect.tokens.passwords[USER] = CREDS["password"]
    client.auth.reset()
    assert await client.firmware()


async def test_locked_user_is_not_retried(client, dialect):
    dialect.tokens.locked.add(USER)
    for _ in range(3):
        health = await client.health()
        assert not health.ok and health.auth is AuthState.FAILED
    assert dialect.tokens.login_attempts == 1
    assert "lock" in (health.message or "").lower()


async def test_bad_app_secret_is_an_auth_error_without_the_secret(make):
    client = make(secret="not-the-secret")
    with pytest.raises(ProviderAuthError) as info:
        await client.firmware()
    assert "invalid_client" in str(info.value) and "not-the-secret" not in str(info.value)
    await client.aclose()


async def test_secrets_never_reach_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    await client.firmware()
    assert caplog.records
    for secret in (CREDS["app_secret"], CREDS["password"], client.auth.oauth_token,
                   client.auth.session):  # fmt: skip
        assert secret and secret not in caplog.text


# -- throttling, bad bodies, retries -----------------------------------------------------
async def test_throttling_waits_for_retry_after(client, sim, sleeps):
    await client.firmware()
    sim.faults.script(KIND, "throttle", path_contains="/fota/v1/firmware")
    assert await client.firmware()
    assert sleeps == [2.0]


async def test_server_errors_are_retried_for_reads(client, sim, sleeps):
    await client.firmware()
    sim.faults.script(KIND, "error", path_contains="/fota/v1/devices/", times=2)
    assert len([d async for d in client.devices()]) == 200
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_unparseable_bodies_are_protocol_errors(client, sim, sleeps, fault):
    await client.firmware()
    sim.faults.script(KIND, fault, path_contains="/fota/v3/reports", times=3)
    with pytest.raises(ProviderProtocolError):
        await client.campaigns()
    assert sleeps == [0.5, 1.0]  # retried up to the policy's attempts


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_one_unparseable_body_on_a_read_is_retried(client, sim, sleeps, fault):
    await client.firmware()
    sim.faults.script(KIND, fault, path_contains="/fota/v3/reports")
    assert await client.campaigns()
    assert sim.faults.injected == {fault: 1} and sleeps == [0.5]


async def _read(client: ThingSpaceClient, what: str) -> Any:
    if what in ("devices", "upgrades"):
        return [r async for r in getattr(client, what)()]
    return await getattr(client, what)()


@pytest.mark.parametrize(
    ("part", "edit", "call"),
    [
        ("/firmware/campaigns", lambda b: b | {"campaignList": "oops"}, "campaigns"),
        ("/firmware/campaigns", lambda b: [b], "campaigns"),
        ("/campaigns/", lambda b: b | {"deviceList": [{"deviceId": {"imei": 1}}]}, "campaigns"),
        ("/fota/v1/devices/", lambda b: b | {"deviceList": [{"deviceId": 3.5}]}, "devices"),
        ("/fota/v1/devices/", lambda b: b | {"hasMoreData": "maybe"}, "devices"),
        ("/fota/v1/firmware", lambda b: {"firmware": b}, "firmware"),
        ("/fota/v1/reports/", lambda b: b | {"reportList": [{"status": "Queued"}]}, "campaigns"),
    ],
)
async def test_wrongly_typed_bodies_are_protocol_errors(make, sim, part, edit, call):
    client = make(transport=Rewrite(sim.transport(), part, edit))
    with pytest.raises(ProviderProtocolError):
        await _read(client, call)


async def test_more_pages_without_a_cursor_is_a_protocol_error(make, sim, dialect):
    dialect.page_sizes["v1_devices"] = 10
    client = make(transport=Rewrite(sim.transport(), "/fota/v1/devices/",
                                    lambda b: {k: v for k, v in b.items() if k != "lastSeenDeviceId"}))  # fmt: skip
    with pytest.raises(ProviderProtocolError, match="cursor"):
        [d async for d in client.devices()]


async def test_unknown_status_is_unknown_with_the_raw_value(make, sim):
    def edit(body: Any) -> Any:
        for row in body.get("deviceList", []):
            row["status"] = "FirmwareMagic"
        return body

    client = make(transport=Rewrite(sim.transport(), "/campaigns/", edit), api_version="v3")
    records = [u async for u in client.upgrades()]
    assert records and all(r.state is UpgradeState.UNKNOWN for r in records)
    assert {r.provider_status_raw for r in records} == {"FirmwareMagic"}
    await client.aclose()


async def test_profile_status_map_overrides_the_table(make):
    client = make(status_map={"UpgradePending": "failed"}, api_version="v3")
    records = [u async for u in client.upgrades() if u.provider_status_raw == "UpgradePending"]
    assert records and all(r.state is UpgradeState.FAILED for r in records)
    await client.aclose()


# -- writes ----------------------------------------------------------------------------
def spec(dialect: ThingSpaceDialect, devices: list[str], **kw: Any) -> CampaignSpec:
    start = dialect.fleet.now() + timedelta(days=1)
    base: dict[str, Any] = {"provider": "ts", "name": "Field test", "firmware": gm01q_image(dialect),
                            "devices": devices, "start_at": start,
                            "end_at": start + timedelta(days=4)}  # fmt: skip
    return CampaignSpec(**(base | kw))


async def test_create_and_cancel_a_v3_campaign_round_trip(client, dialect, clock):
    devices = free_gm01q(dialect, 3)
    [created] = await client.create_campaign(spec(dialect, devices, windows=[(1, 6)]))
    assert created.state is CampaignState.PENDING and created.total == 3
    job = dialect.fleet.jobs[KIND][created.campaign_id]
    assert set(job.targets) == set(devices) and job.windows == [(1, 6)]
    clock.advance(120)
    listed = {c.campaign_id: c for c in await client.campaigns()}
    assert listed[created.campaign_id].state is CampaignState.QUEUED
    cancelled = await client.cancel_campaign(created.campaign_id)
    assert cancelled.state is CampaignState.CANCELLED
    assert cancelled.provider_status_raw == "CampaignCancelled"
    listed = {c.campaign_id: c for c in await client.campaigns()}
    assert listed[created.campaign_id].state is CampaignState.CANCELLED


async def test_abort_after_start(client, dialect, clock):
    devices = free_gm01q(dialect, 4)
    [created] = await client.create_campaign(spec(dialect, devices, start_at=None, end_at=None))
    clock.advance(91 * 60)  # on-demand campaigns start after ~90 min
    aborted = await client.cancel_campaign(created.campaign_id)
    assert aborted.provider_status_raw == "CampaignAborted"
    assert aborted.state is CampaignState.CANCELLED


async def test_create_and_cancel_a_v1_upgrade(client, dialect):
    devices = free_gm01q(dialect, 2)
    [created] = await client.create_campaign(spec(dialect, devices, options={"api": "v1"}))
    assert created.provider_status_raw == "RequestPending"
    detail = await client.campaign(created.campaign_id)
    assert all(d.state is UpgradeState.PENDING and d.provider_reason is None
               for d in detail.devices)  # resultReason absent while pending  # fmt: skip
    cancelled = await client.cancel_campaign(created.campaign_id)
    assert cancelled.state is CampaignState.CANCELLED
    assert created.campaign_id not in {c.campaign_id for c in await client.campaigns()}


async def test_add_and_remove_devices_v3_and_v1(client, dialect, clock):
    devices = free_gm01q(dialect, 6)
    [v3] = await client.create_campaign(spec(dialect, devices[:2]))
    [v1] = await client.create_campaign(spec(dialect, devices[2:4], options={"api": "v1"}))
    added = await client.add_devices(v3.campaign_id, [devices[4], "12345"])
    assert [(a.device_id, a.ok) for a in added] == [(devices[4], True), ("12345", False)]
    assert added[1].reason == "Invalid IMEI"
    assert [a.ok for a in await client.add_devices(v1.campaign_id, [devices[5]])] == [True]
    removed = await client.remove_devices(v3.campaign_id, [devices[0]])
    assert removed[0].ok and removed[0].status == "RemoveDeviceSucceed"
    clock.advance(1)
    members = {d.device_id for d in (await client.campaign(v3.campaign_id)).devices}
    assert members == {devices[1], devices[4]}
    members = {d.device_id for d in (await client.campaign(v1.campaign_id)).devices}
    assert members == {devices[2], devices[3], devices[5]}


async def test_creates_are_never_retried(client, sim, dialect, sleeps):
    before = len(dialect.fleet.jobs[KIND])
    sim.faults.script(KIND, "error", method="POST", path_contains="/campaigns/firmware")
    with pytest.raises(ProviderUnavailable):
        await client.create_campaign(spec(dialect, free_gm01q(dialect, 2)))
    assert len(dialect.fleet.jobs[KIND]) == before and sleeps == []
    sim.faults.script(KIND, "reset_after", method="POST", path_contains="/campaigns/firmware")
    with pytest.raises(ProviderUnavailable):
        await client.create_campaign(spec(dialect, free_gm01q(dialect, 2)))
    assert len(dialect.fleet.jobs[KIND]) == before + 1  # sent once, answer lost


async def test_platform_rejections_keep_code_and_message(client, dialect):
    bad = spec(dialect, free_gm01q(dialect, 1), windows=[(22, 24)])
    with pytest.raises(ProviderRejected) as info:
        await client.create_campaign(bad)
    assert info.value.code == "InvalidTimeWindow" and info.value.status == 400
    assert "4 hours" in info.value.message


def test_plan_is_exact_and_masks_secrets(client, dialect):
    s = spec(dialect, ["359000000000001"], firmware_from="A", firmware_to="B", windows=[(0, 6)],
             options={"auto_assign_license": True})  # fmt: skip
    [plan] = client.plan_campaign(s)
    assert plan.method == "POST" and plan.url.endswith(
        "/api/fota/v3/campaigns/firmware/0000123456-00001"
    )
    assert plan.body["campaignTimeWindowList"] == [{"startTime": 0, "endTime": 6}]
    assert plan.body["autoAssignLicenseFlag"] is True and plan.body["autoAddDevicesFlag"] is False
    assert s.start_at is not None and s.end_at is not None
    assert (plan.body["startDate"], plan.body["endDate"]) == (
        str(s.start_at.date()),
        str(s.end_at.date()),
    )
    assert "***" in (plan.note or "")
    text = repr(plan)
    assert CREDS["app_secret"] not in text and CREDS["password"] not in text
    [v1] = client.plan_campaign(s.model_copy(update={"windows": [], "options": {"api": "v1"}}))
    assert v1.url.endswith("/api/fota/v1/upgrades") and v1.body["accountName"] == CREDS["account"]


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"options": {"api": "v2"}}, "options.api"),
        ({"options": {"colour": "red"}}, "options.colour"),
        ({"options": {"auto_add_devices": "yes"}}, "options.auto_add_devices"),
        ({"options": {"api": "v1"}}, "windows"),
        ({"device_groups": ["g1"]}, "device_groups"),
        ({"devices": []}, "devices"),
        ({"firmware_from": None}, "firmware_from"),
    ],
)
def test_plan_rejects_what_thingspace_cannot_do(client, dialect, update, field):
    s = spec(dialect, ["359000000000001"], firmware_from="A", firmware_to="B", windows=[(0, 6)])
    with pytest.raises(ProviderRejected) as info:
        client.plan_campaign(s.model_copy(update=update))
    assert info.value.field == field


# -- documented quirks ---------------------------------------------------------------------
@pytest.mark.parametrize(("typo", "value"), [("alternate", "uuid"), ("alternate", "int"),
                                             ("always", "uuid"), ("never", "int")])  # fmt: skip
async def test_both_last_seen_upgrade_id_spellings_page_through(make, dialect, typo, value):
    dialect.page_sizes["v1_reports"] = 1
    dialect.typo_cursor, dialect.typo_value = typo, value
    client = make(api_version="v1")
    ids = {c.campaign_id for c in await client.campaigns()}
    assert ids == {j.job_id for j in jobs(dialect, "v1") if j.cancelled_at is None}
    await client.aclose()


async def test_numeric_cursor_and_numeric_ids_stay_exact_strings(make, sim, dialect):
    dialect.page_sizes["v1_devices"] = 40

    def as_numbers(body: Any) -> Any:
        body["lastSeenDeviceId"] = float(body["lastSeenDeviceId"])
        for row in body["deviceList"]:
            row["deviceId"] = int(row["deviceId"])
        return body

    client = make(transport=Rewrite(sim.transport(), "/fota/v1/devices/", as_numbers))
    ids = [d.device_id async for d in client.devices()]
    assert sorted(ids) == sorted(dialect.fleet.devices[KIND])
    await client.aclose()


async def test_status_spellings_and_typos_map_to_one_state(client):
    campaigns = await client.campaigns()
    by_raw = {c.provider_status_raw: c.state for c in campaigns}
    for raw in ("CampaignRequestQueued", "CampaignQueued", "CampaignPreScheduled"):
        assert by_raw[raw] is CampaignState.QUEUED
    assert by_raw["CampaignAborted"] is CampaignState.CANCELLED
    records = [u async for u in client.upgrades()]
    typo = [r for r in records if r.provider_status_raw == "UpgradedFailed"]
    assert typo and all(r.state is UpgradeState.FAILED for r in typo)


async def test_active_devices_of_an_ended_campaign_are_expired(client, dialect):
    now = dialect.fleet.now()
    campaigns = {c.campaign_id: c for c in await client.campaigns()}
    ended = [c for c in campaigns.values() if c.provider_status_raw == "CampaignEnded"]
    assert ended and all(c.state in (CampaignState.SUCCEEDED, CampaignState.PARTIAL,
                                     CampaignState.FAILED) for c in ended)  # fmt: skip
    expired = sum(c.counts[UpgradeState.EXPIRED] for c in ended)
    fleet_expired = sum(
        1
        for c in ended
        for s in dialect.fleet.jobs[KIND][c.campaign_id].phases(now).values()
        if s.phase is Phase.EXPIRED
    )
    assert expired == fleet_expired > 0


async def test_base_url_may_include_the_api_root(make, sim):
    client = make(base_url=sim.base_urls()[KIND] + "/api/")
    assert (await client.health()).ok
    await client.aclose()


async def test_aclose_logs_the_session_out(make, dialect):
    client = make()
    await client.firmware()
    assert len(dialect.tokens.sessions) == 1
    await client.aclose()
    assert dialect.tokens.sessions == {}


def test_bad_api_version_names_the_key(make):
    from fota_tui.errors import ConfigError

    with pytest.raises(ConfigError, match="api_version"):
        make(api_version="v2")


@pytest.mark.loopback
async def test_over_loopback(make, sim):
    with sim.serve() as server:
        client = make(loopback=True, base_url=server.base_urls()[KIND])
        assert (await client.health()).ok
        assert len(await client.campaigns()) >= 10
        await client.aclose()


async def test_concurrent_campaigns_and_upgrades_share_one_read(make, sim):
    alone = make()
    await alone.firmware()  # logged in, so only report reads are counted below
    before = sim.requests[KIND]
    await alone.campaigns()
    one_read = sim.requests[KIND] - before
    before = sim.requests[KIND]
    alone.request_full()  # a full read again (ended campaigns are otherwise kept)
    campaigns, records = await asyncio.gather(alone.campaigns(), _read(alone, "upgrades"))
    assert sim.requests[KIND] - before == one_read
    assert sum(c.total for c in campaigns) == len(records)


@pytest.mark.parametrize(("path", "fault"), [("/oauth2/token", "error"),
                                             ("/session/login", "reset")])  # fmt: skip
async def test_transient_auth_failures_are_retried_for_reads(client, sim, sleeps, path, fault):
    sim.faults.script(KIND, fault, path_contains=path)
    assert await client.firmware()
    assert sleeps == [0.5] and client.auth.logins == 1 + (path == "/session/login")


async def test_a_refresh_runs_its_independent_listings_at_once(make, sim):
    """After login a refresh has 17 independent listings (10 v3 statuses, 6 v1 statuses,
    the device cursor chain): they go out together, not six at a time."""
    wire = Overlap(sim.transport())
    client = make(transport=wire)
    snapshot = await fetch_snapshot(client)
    assert len(snapshot.devices) == len(sim.fleet.devices[KIND]) and snapshot.campaigns
    assert wire.peak > 6  # six was the old gate
    assert wire.peak <= client.concurrency == 16


async def test_the_http_pool_holds_the_concurrency(make, monkeypatch):
    pools: list[int] = []
    build = ClientOptions.build_client

    def spy(self: ClientOptions, *args: Any, **kwargs: Any) -> httpx.AsyncClient:
        pools.append(max(self.max_connections, kwargs.get("concurrency", 0)))
        return build(self, *args, **kwargs)

    monkeypatch.setattr(ClientOptions, "build_client", spy)
    client = make(concurrency=40)
    assert await client.firmware() and pools == [40]


# -- the vendor's schema (SDK models): filter values, enum words ---------------------------


class Counting(httpx.AsyncBaseTransport):
    """Records the query of every request on its way to the simulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.queries = inner, list[dict[str, str]]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(dict(request.url.params))
        return await self.inner.handle_async_request(request)


async def test_a_platform_that_refuses_example_only_filters_keeps_the_pane_healthy(
    make, sim, dialect, caplog
):
    dialect.listing_filter = "schema"  # only CampaignStatusEnum values are accepted
    transport = Counting(sim.transport())
    client = make(transport=transport)
    caplog.set_level(logging.WARNING)
    snapshot = await fetch_snapshot(client)
    assert snapshot.health.ok
    skipped = [w for w in snapshot.health.warnings if "not asked again" in w]
    assert len(skipped) == 2
    assert any("CampaignQueued" in w for w in skipped)
    assert any("CampaignPreScheduled" in w for w in skipped)
    # Every campaign is still listed: the platform lists them under their enum neighbour.
    listed = {c.campaign_id for c in snapshot.campaigns}
    assert listed == {j.job_id for j in jobs(dialect, "v3")} | {
        j.job_id for j in jobs(dialect, "v1") if j.cancelled_at is None
    }
    first = len(caplog.records)
    # The next refresh does not ask for them again and does not log again.
    transport.queries.clear()
    again = await fetch_snapshot(client)
    assert again.health.ok and again.health.warnings == snapshot.health.warnings
    asked = {q.get("campaignStatus") for q in transport.queries}
    assert "CampaignQueued" not in asked and "CampaignPreScheduled" not in asked
    assert "CampaignRequestQueued" in asked
    assert len(caplog.records) == first


class RefuseStatus(Counting):
    """Answers one campaignStatus filter value with the platform's 400."""

    def __init__(self, inner: httpx.AsyncBaseTransport, status: str) -> None:
        super().__init__(inner)
        self.status = status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("campaignStatus") == self.status:
            body = {"errorCode": "InvalidParameter", "errorMessage": "campaignStatus is not valid"}
            return httpx.Response(400, json=body)
        return await super().handle_async_request(request)


async def test_a_refusal_of_a_schema_status_still_fails_the_refresh(make, sim):
    with pytest.raises(ProviderRejected):
        await make(transport=RefuseStatus(sim.transport(), "CampaignEnded")).campaigns()


SDK_UPGRADE_ENUM = {  # verizon/models/upgrade_status (v1 reports' path values)
    "RequestPending": UpgradeState.PENDING,
    "Queued": UpgradeState.QUEUED,
    "RequestFailed": UpgradeState.FAILED,
    "InProgress": UpgradeState.IN_PROGRESS,
    "Finished": UpgradeState.SUCCEEDED,
    "UpgradeFailed": UpgradeState.FAILED,
}
SDK_CAMPAIGN_ENUM = {  # verizon/models/campaign_status_enum.py, plus the example-only words
    "CampaignRequestPending": UpgradeState.PENDING,
    "CampaignRequestFailed": UpgradeState.FAILED,
    "CampaignRequestQueued": UpgradeState.QUEUED,
    "CampaignCancelled": UpgradeState.CANCELLED,
    "CampaignAborted": UpgradeState.CANCELLED,
    "CampaignFailed": UpgradeState.FAILED,
    "CampaignScheduled": UpgradeState.QUEUED,
    "CampaignEnded": UpgradeState.EXPIRED,
    "CampaignQueued": UpgradeState.QUEUED,
    "CampaignPreScheduled": UpgradeState.QUEUED,
}


async def test_the_simulator_speaks_the_enum_words_per_device_and_none_is_unknown(make, dialect):
    # Let the fleet move so every phase occurs.
    records = [u async for u in make().upgrades()]
    raw = {u.provider_status_raw for u in records}
    assert {"InProgress", "Queued", "Finished", "RequestFailed"} & raw
    assert {"CampaignRequestPending", "CampaignScheduled", "CampaignEnded",
            "CampaignRequestFailed"} & raw  # fmt: skip
    enum_words = {**SDK_UPGRADE_ENUM, **SDK_CAMPAIGN_ENUM}
    for u in records:
        assert u.state is not UpgradeState.UNKNOWN, u.provider_status_raw
        if u.provider_status_raw in enum_words and u.state not in (
            UpgradeState.EXPIRED,
            UpgradeState.CANCELLED,
            UpgradeState.FAILED,
        ):  # an ended or stopped campaign decides what an active device became
            assert u.state is enum_words[u.provider_status_raw], u.provider_status_raw
