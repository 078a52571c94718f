"""The OneNET adapter against the simulator (in-process HTTP, one test over loopback)."""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fota_tui.errors import (
    ProviderAuthError,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnsupported,
)
from fota_tui.models import (
    AuthState,
    CampaignSpec,
    CampaignState,
    ExecuteType,
    ProviderKind,
    UpgradeState,
    utcnow,
)
from fota_tui.providers.base import LocalGroup, ProviderClient
from fota_tui.providers.http import ClientOptions
from fota_tui.providers.onenet.client import OneNetClient
from fota_tui.services.snapshot import fetch_snapshot
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.onenet.dialect import OneNetDialect
from fota_tui.sim.fleet import Phase, Reason, SimJob
from fota_tui.sim.server import Simulator

KIND = ProviderKind.ONENET
KEY = OneNetDialect.credentials["api_key"]
URI = "http://fota.example.com/onenet/bc95-g/BC95GJBR01A08_to_BC95GJBR01A09.bin"
PHASE_STATES = {
    Phase.SENDING: UpgradeState.SENDING,
    Phase.DOWNLOADING: UpgradeState.DOWNLOADING,
    Phase.INSTALLING: UpgradeState.IN_PROGRESS,
    Phase.SUCCEEDED: UpgradeState.SUCCEEDED,
    Phase.FAILED: UpgradeState.FAILED,
    Phase.EXPIRED: UpgradeState.EXPIRED,
    Phase.CANCELLED: UpgradeState.CANCELLED,
}


class Groups:
    def __init__(self, *groups: LocalGroup) -> None:
        self.items = list(groups)

    def groups(self, provider: str) -> list[LocalGroup]:
        return [g for g in self.items if g.provider == provider]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    sim = Simulator.build(kinds=[KIND], clock=clock, devices=120)
    sim.dialects[KIND].rate_limit = None  # type: ignore[attr-defined]
    return sim


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(
    sim: Simulator,
    clock: ManualClock,
    sleeps: list[float],
    *,
    key: str = KEY,
    base_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    status_map: dict[str, str] | None = None,
    **kwargs: Any,
) -> OneNetClient:
    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    options = ClientOptions(
        name="cmcc",
        base_url=base_url or sim.base_urls()[KIND],
        transport=transport or (sim.transport() if base_url is None else None),
        sleep=fake_sleep,
        status_map=status_map or {},
    )
    kwargs.setdefault("per_second", None)
    return OneNetClient(options, api_key=SecretStr(key), clock=clock.now, **kwargs)


@pytest.fixture
async def client(sim: Simulator, clock: ManualClock, sleeps: list[float]):
    client = make_client(sim, clock, sleeps)
    yield client
    await client.aclose()


def job_of(sim: Simulator, imei: str, created) -> SimJob:
    return next(
        j for j in sim.fleet.jobs_of_device(KIND, imei) if j.targets[imei].added_at == created
    )


def expected_state(job: SimJob, imei: str, now) -> UpgradeState:
    step = job.targets[imei].step_at(now, job.cancelled_at)
    if step.phase in (Phase.PENDING, Phase.QUEUED):
        return UpgradeState.PENDING if now < job.start_at else UpgradeState.QUEUED
    if step.phase is Phase.FAILED and step.reason is Reason.LOW_BATTERY:
        return UpgradeState.UNKNOWN
    return PHASE_STATES[step.phase]


def online_imeis(sim: Simulator, n: int) -> list[str]:
    return [d.imei for d in sim.fleet.devices[KIND].values() if d.online][:n]


# -- contract, health, auth -----------------------------------------------------------------------
async def test_is_a_provider_client_with_onenet_capabilities(client: OneNetClient):
    assert isinstance(client, ProviderClient)
    caps = client.capabilities
    assert not caps.native_campaigns and caps.returns_job_id and caps.cancel_campaign
    assert caps.device_list and client.kind is KIND


async def test_health_and_a_wrong_key(sim, clock, sleeps, client):
    health = await client.health()
    assert health.ok and health.auth is AuthState.OK
    bad = make_client(sim, clock, sleeps, key="not-the-master-key")
    health = await bad.health()
    assert not health.ok and health.auth is AuthState.FAILED and "errno 1" in (health.message or "")
    assert "not-the-master-key" not in (health.message or "")
    with pytest.raises(ProviderAuthError):
        [d async for d in bad.devices()]
    assert sleeps == []  # auth errors are not retried
    await bad.aclose()


async def test_token_expiry_fault_is_harmless_without_tokens(sim, client):
    sim.faults.set(KIND, token_expiry=1.0)
    assert len([d async for d in client.devices()]) == 120


# -- reads match the fleet -----------------------------------------------------------------------
async def test_devices_match_the_fleet(sim: Simulator, client: OneNetClient):
    devices = {d.device_id: d async for d in client.devices()}
    fleet = sim.fleet.devices[KIND]
    assert set(devices) == set(fleet)
    for imei, device in devices.items():
        sim_device = fleet[imei]
        assert device.imei == imei and device.name == sim_device.name
        assert (device.make, device.model) == (sim_device.make, sim_device.model)
        assert device.firmware == sim.fleet.firmware_of(sim_device)
        assert isinstance(device.online, bool)
        assert device.provider_status_raw == str(sim_device.extra["id"])  # numbers → strings
    assert any(not d.name.isascii() for d in devices.values() if d.name)


async def test_devices_from_a_profile_imei_list(sim, clock, sleeps):
    wanted = list(sim.fleet.devices[KIND])[:3]
    client = make_client(sim, clock, sleeps, imeis=[*wanted, "123456789012347"])
    devices = [d async for d in client.devices()]
    assert [d.device_id for d in devices] == wanted  # the unknown IMEI is skipped
    assert all(d.model and d.firmware for d in devices)
    fresh = make_client(sim, clock, sleeps, imeis=["123456789012347", *wanted])
    ups = [u async for u in fresh.upgrades()]  # errno 1 for one IMEI is not an auth failure
    assert {u.device_id for u in ups} <= set(wanted)
    want = sum(1 for i in wanted for j in sim.fleet.jobs_of_device(KIND, i))
    assert len(ups) == want
    await client.aclose()
    await fresh.aclose()


async def test_upgrades_match_the_fleet_as_time_moves(sim: Simulator, clock, client):
    seen: Counter[UpgradeState] = Counter()
    for _ in range(3):
        now = clock.now()
        ups = [u async for u in client.upgrades()]
        targets = sum(len(j.live_targets(now)) for j in sim.fleet.jobs[KIND].values())
        assert len(ups) == targets
        for up in ups:
            job = job_of(sim, up.device_id, up.created_at)
            assert up.state is expected_state(job, up.device_id, now), (up, job.name)
            assert up.created_at == job.created_at  # Beijing times back in UTC
            assert up.campaign_id and up.campaign_id.startswith("cmd-")
            seen[up.state] += 1
        clock.advance(7 * 60)
    assert {
        UpgradeState.SUCCEEDED,
        UpgradeState.FAILED,
        UpgradeState.QUEUED,
        UpgradeState.EXPIRED,
    } <= set(seen)
    assert seen[UpgradeState.DOWNLOADING] + seen[UpgradeState.IN_PROGRESS] > 0


async def test_unknown_send_status_keeps_the_raw_value(sim: Simulator, clock, sleeps, client):
    now = clock.now()
    ids = list(sim.fleet.devices[KIND])[:6]
    sim.fleet.create_job(
        KIND,
        job_id="battery",
        name="battery",
        firmware=sim.fleet.firmware[KIND][0],
        device_ids=ids,
        created_at=now - timedelta(hours=1),
        rejected=dict.fromkeys(ids, Reason.LOW_BATTERY),
    )
    ups = [u async for u in client.upgrades() if u.created_at == now - timedelta(hours=1)]
    assert len(ups) == 6
    assert all(u.state is UpgradeState.UNKNOWN and u.provider_status_raw in (7, 8) for u in ups)
    assert all("undefined" in (u.provider_reason or "") for u in ups)
    mapped = make_client(sim, clock, sleeps, status_map={"7": "failed", "8": "failed"})
    ups = [u async for u in mapped.upgrades() if u.created_at == now - timedelta(hours=1)]
    assert {u.state for u in ups} == {UpgradeState.FAILED}
    await mapped.aclose()


async def test_campaigns_are_stable_batches_of_the_seeded_jobs(sim: Simulator, clock, client):
    now = clock.now()
    first = await client.campaigns()
    again = await client.campaigns()
    assert [c.campaign_id for c in first] == [c.campaign_id for c in again]
    by_created = {c.created_at: c for c in first}
    jobs = list(sim.fleet.jobs[KIND].values())
    assert len(first) == len(jobs)
    for job in jobs:
        campaign = by_created[job.created_at]
        assert campaign.local and campaign.total == len(job.live_targets(now))
        assert campaign.end_at == job.end_at and campaign.start_at == job.start_at
        want = Counter(expected_state(job, d, now) for d in job.phases(now))
        assert {k: v for k, v in campaign.counts.items() if v} == dict(want)
    states = {c.state for c in first}
    assert CampaignState.PARTIAL in states and CampaignState.IN_PROGRESS in states


async def test_a_refresh_scans_histories_once_and_the_next_only_what_can_change(
    sim: Simulator, client
):
    before = sim.requests[KIND]
    ups, campaigns = await asyncio.gather(
        collect(client.upgrades()), client.campaigns()
    )  # at once, as a refresh asks: one shared scan
    first = sim.requests[KIND] - before
    assert sum(c.total for c in campaigns) == len(ups)
    assert first >= len(sim.fleet.devices[KIND])  # one history call per device at least
    await client.campaigns()  # a later refresh reads the devices with upgrades in flight
    again = sim.requests[KIND] - before - first
    assert 0 < again < first / 2  # (tests/providers/test_incremental_refresh.py)


async def collect(items):  # type: ignore[no-untyped-def]
    return [item async for item in items]


class Counting(httpx.AsyncBaseTransport):
    """Counts requests by path and by exact URL on their way to the simulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: Counter[str] = Counter()
        self.urls: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.url.path.split("/onenet", 1)[-1]] += 1
        self.urls[str(request.url)] += 1
        return await self.inner.handle_async_request(request)


async def test_one_refresh_lists_devices_once_and_reads_each_history_once(sim, clock, sleeps):
    counting = Counting(sim.transport())
    client = make_client(sim, clock, sleeps, transport=counting)
    snapshot = await fetch_snapshot(client)  # devices, upgrades and campaigns at once
    devices = len(sim.fleet.devices[KIND])
    assert len(snapshot.devices) == devices and snapshot.upgrades and snapshot.campaigns
    assert counting.paths["/devices"] == math.ceil(devices / 100)  # each page once
    assert counting.paths["/nbiot/offline/history"] == devices  # one page per device
    assert max(counting.urls.values()) == 1  # nothing was asked twice
    assert sum(c.total for c in snapshot.campaigns) == len(snapshot.upgrades)
    await client.aclose()


async def test_the_next_refresh_sees_commands_sent_by_another_console(sim, clock, sleeps):
    """Another console of the same profile records its send in the shared journal: the
    next refresh reads those devices (a send from elsewhere waits for the full sweep:
    tests/providers/test_incremental_refresh.py)."""
    journal = Groups()
    client = make_client(sim, clock, sleeps, groups=journal)
    first = await fetch_snapshot(client)
    imeis = list(sim.fleet.devices[KIND])[:2]
    other = make_client(sim, clock, sleeps, groups=journal)  # another console sends
    (created,) = await other.create_campaign(spec(imeis, clock))
    await other.aclose()
    refs = tuple(u for r in created.provider_status_raw["commands"].values() for u in r.values())
    journal.items.append(LocalGroup("local-9", "cmcc", clock.now(), tuple(imeis), job_refs=refs))
    assert "local-9" not in {c.campaign_id for c in first.campaigns}
    later = await fetch_snapshot(client)  # straight after: nothing stale is reused
    assert not later.health.full_read
    assert "local-9" in {c.campaign_id for c in later.campaigns}
    mine = [u for u in later.upgrades if u.campaign_id == "local-9"]
    assert sorted(u.device_id for u in mine) == sorted(imeis)
    await client.aclose()


async def test_a_failed_scan_is_not_shared_with_the_next_caller(sim, clock, client):
    sim.faults.set(KIND, error=1.0)
    with pytest.raises(ProviderUnavailable):
        await client.campaigns()
    sim.faults.set(KIND, error=0.0)
    assert await client.campaigns()  # read again at once, not the failure


async def test_the_http_pool_holds_the_concurrency(sim, clock, sleeps, monkeypatch):
    pools: list[int] = []
    build = ClientOptions.build_client

    def spy(self: ClientOptions, *args: Any, **kwargs: Any) -> httpx.AsyncClient:
        pools.append(max(self.max_connections, kwargs.get("concurrency", 0)))
        return build(self, *args, **kwargs)

    monkeypatch.setattr(ClientOptions, "build_client", spy)
    client = make_client(sim, clock, sleeps, concurrency=40)
    client.options.max_connections = 10
    assert (await client.health()).ok
    assert pools == [40] and client.options.max_connections == 10  # options untouched
    await client.aclose()


async def test_campaign_detail_history_and_not_found(sim: Simulator, clock, client):
    campaigns = await client.campaigns()
    chosen = max(campaigns, key=lambda c: c.total)
    detail = await client.campaign(chosen.campaign_id)
    assert detail.campaign.campaign_id == chosen.campaign_id
    assert len(detail.devices) == chosen.total
    assert detail.campaign.counts == chosen.counts
    with pytest.raises(ProviderNotFound):
        await client.campaign("cmd-20200101000000-20200108000000")
    with pytest.raises(ProviderNotFound):
        await client.campaign("nonsense")
    imei = max(sim.fleet.devices[KIND], key=lambda i: len(sim.fleet.jobs_of_device(KIND, i)))
    history = await client.device_history(imei)
    assert len(history) == len(sim.fleet.jobs_of_device(KIND, imei))
    created = [h.created_at for h in history]
    assert created == sorted(created, reverse=True)
    assert {h.campaign_id for h in history} <= {c.campaign_id for c in campaigns}


# -- create, cancel ------------------------------------------------------------------------------
def spec(imeis: list[str], clock: ManualClock, **extra: Any) -> CampaignSpec:
    return CampaignSpec(
        provider="cmcc",
        name="Pilot",
        firmware=URI,
        firmware_to="BC95GJBR01A09",
        devices=imeis,
        **extra,
    )


async def test_plan_is_exact_and_masks_the_key(sim, clock, client):
    start = clock.now() + timedelta(hours=1)
    plan = client.plan_campaign(
        spec(
            ["869975031234561"],
            clock,
            start_at=start,
            end_at=start + timedelta(days=2),
            execute_type=ExecuteType.CUSTOM,
            options={"retry": 5, "trigger_msg": 2},
        )
    )
    base = sim.base_urls()[KIND]
    assert [(p.method, p.url) for p in plan] == [
        ("POST", f"{base}/nbiot/offline"),
        ("POST", f"{base}/nbiot/execute/offline"),
    ]
    write, execute = plan
    assert write.params == {
        "imei": "869975031234561",
        "obj_id": 5,
        "obj_inst_id": 0,
        "mode": 1,
        "valid_time": "2026-11-22T17:00:00",
        "expired_time": "2026-11-24T17:00:00",
        "retry": 5,
        "trigger_msg": 2,
    }
    assert write.body == {"data": [{"res_id": 1, "val": URI}]}
    assert execute.params["res_id"] == 2 and execute.body is None
    assert KEY not in repr(plan) and "***" in (write.note or "")


def test_a_start_of_now_leaves_valid_time_to_the_platform(clock, client):
    write, _ = client.plan_campaign(spec(["869975031234561"], clock, start_at=clock.now()))
    assert "valid_time" not in write.params
    assert write.params["expired_time"] == "2026-11-29T16:00:00"  # default validity: 7 days


@pytest.mark.parametrize(
    ("extra", "error", "field"),
    [
        ({"options": {"retry": 11}}, ProviderRejected, "options.retry"),
        ({"options": {"timeout": 4}}, ProviderRejected, "options.timeout"),
        ({"options": {"colour": 1}}, ProviderRejected, "options.colour"),
        ({"devices": ["12345"]}, ProviderRejected, "devices"),
        ({"devices": []}, ProviderRejected, "devices"),
        ({"device_groups": ["g1"]}, ProviderUnsupported, None),
        ({"windows": [(0, 6)]}, ProviderUnsupported, None),
    ],
)
def test_plan_rejects_bad_specs(sim, clock, client, extra, error, field):
    base = spec(["869975031234561"], clock).model_dump()
    with pytest.raises(error) as info:
        client.plan_campaign(CampaignSpec(**{**base, **extra}))
    if field:
        assert info.value.field == field


async def test_create_then_cancel_round_trip(sim: Simulator, clock, client):
    imeis = list(sim.fleet.devices[KIND])[:3]
    start = clock.now() + timedelta(hours=2)
    jobs_before = len(sim.fleet.jobs[KIND])
    (created,) = await client.create_campaign(
        spec(imeis, clock, start_at=start, end_at=start + timedelta(days=1))
    )
    assert created.local and created.state is CampaignState.PENDING and created.total == 3
    refs = created.provider_status_raw["commands"]
    assert set(refs) == set(imeis) and all(set(r) == {"write", "execute"} for r in refs.values())
    assert len(sim.fleet.jobs[KIND]) == jobs_before + 3
    listed = {c.campaign_id: c for c in await client.campaigns()}
    assert created.campaign_id in listed
    assert listed[created.campaign_id].counts[UpgradeState.PENDING] == 3
    cancelled = await client.cancel_campaign(created.campaign_id)
    assert cancelled.campaign_id == created.campaign_id
    assert cancelled.state is CampaignState.CANCELLED
    assert "cancelled 6 waiting command(s) on 3 device(s)" in (cancelled.provider_reason or "")
    ups = [u async for u in client.upgrades() if u.campaign_id == created.campaign_id]
    assert {u.state for u in ups} == {UpgradeState.CANCELLED} and len(ups) == 3
    for refs_of in refs.values():
        job = sim.fleet.jobs[KIND][refs_of["write"]]
        assert job.cancelled_at is not None
    with pytest.raises(ProviderNotFound):
        await client.cancel_campaign("cmd-20200101000000-20200108000000")


async def test_cancel_reports_devices_already_sent(sim: Simulator, clock, client):
    imeis = online_imeis(sim, 2)
    (created,) = await client.create_campaign(spec(imeis, clock))
    first = sim.fleet.jobs[KIND][created.provider_status_raw["commands"][imeis[0]]["write"]]
    clock.set(first.targets[imeis[0]].first_at(Phase.SENDING) + timedelta(seconds=1))
    result = await client.cancel_campaign(created.campaign_id)
    assert "could not be cancelled" in (result.provider_reason or "")


async def test_created_upgrade_progress_comes_from_object5(sim: Simulator, clock, client):
    (imei,) = online_imeis(sim, 1)
    (created,) = await client.create_campaign(spec([imei], clock))
    job = sim.fleet.jobs[KIND][created.provider_status_raw["commands"][imei]["write"]]
    target = job.targets[imei]
    for step in target.steps:
        clock.set(step.at + timedelta(seconds=1))
        (latest, *_) = await client.device_history(imei)
        assert latest.campaign_id == created.campaign_id
        assert latest.state is expected_state(job, imei, clock.now()), step


async def test_groups_name_campaigns_and_list_firmware(sim: Simulator, clock, sleeps, client):
    imeis = list(sim.fleet.devices[KIND])[:2]
    (created,) = await client.create_campaign(spec(imeis, clock))
    refs = tuple(u for r in created.provider_status_raw["commands"].values() for u in r.values())
    group = LocalGroup(
        "local-7",
        "cmcc",
        clock.now(),
        tuple(imeis),
        name="Pilot",
        firmware=URI,
        firmware_to="BC95GJBR01A09",
        job_refs=refs,
    )
    grouped = make_client(sim, clock, sleeps, groups=Groups(group))
    campaigns = {c.campaign_id: c for c in await grouped.campaigns()}
    assert campaigns["local-7"].total == 2 and campaigns["local-7"].name == "Pilot"
    assert campaigns["local-7"].firmware_to == "BC95GJBR01A09"
    assert created.campaign_id not in campaigns
    detail = await grouped.campaign("local-7")
    assert {d.device_id for d in detail.devices} == set(imeis)
    assert all(d.firmware_to == "BC95GJBR01A09" for d in detail.devices)
    (firmware,) = await grouped.firmware()
    assert firmware.url == URI and firmware.version == "BC95GJBR01A09"
    assert await client.firmware() == []
    await grouped.aclose()


async def test_platform_rejection_on_create(sim: Simulator, clock, client):
    past = clock.now() - timedelta(hours=1)
    with pytest.raises(ProviderRejected) as info:
        await client.create_campaign(
            spec(
                list(sim.fleet.devices[KIND])[:2],
                clock,
                start_at=past,
                end_at=past + timedelta(days=1),
            )
        )
    assert info.value.code == "5006" and "valid_time" in info.value.message


# -- failures on the wire ------------------------------------------------------------------------
async def test_throttling_honours_retry_after(sim: Simulator, clock, sleeps, client):
    sim.faults.script(KIND, "throttle", path_contains="/devices")
    assert len([d async for d in client.devices()]) == 120
    assert sleeps == [1.0]
    sim.faults.set(KIND, throttle=1.0)
    with pytest.raises(ProviderRateLimited) as info:
        [d async for d in client.devices()]
    assert info.value.retry_after == 1.0 and sleeps == [1.0, 1.0, 1.0]


async def test_malformed_and_truncated_bodies(sim: Simulator, client):
    for fault in ("malformed", "truncated"):
        sim.faults.clear(KIND)
        sim.faults.set(KIND, **{fault: 1.0})
        with pytest.raises(ProviderProtocolError):
            [d async for d in client.devices()]


async def test_server_errors_are_retried_for_reads_only(sim: Simulator, clock, sleeps, client):
    sim.faults.script(KIND, "error", method="GET")
    assert len([d async for d in client.devices()]) == 120
    assert sleeps == [0.5]
    (imei,) = list(sim.fleet.devices[KIND])[:1]
    jobs = len(sim.fleet.jobs[KIND])
    sim.faults.script(KIND, "reset_after", method="POST")
    (created,) = await client.create_campaign(spec([imei], clock))
    assert len(sim.fleet.jobs[KIND]) == jobs + 1  # the write landed once, never re-sent
    assert sleeps == [0.5]
    # Its answer was lost; the write was found in the history and its execute sent once.
    assert isinstance(created.provider_status_raw, dict)
    assert imei in created.provider_status_raw["recovered"]
    assert "found and finished" in (created.provider_reason or "")
    sim.faults.script(KIND, "error", method="POST")
    with pytest.raises(ProviderUnavailable):
        await client.create_campaign(spec([imei], clock))
    assert len(sim.fleet.jobs[KIND]) == jobs + 1 and sleeps == [0.5]


def envelope_client(sim, clock, sleeps, body: Any, status: int = 200, headers=None) -> OneNetClient:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["api-key"] == KEY
        return httpx.Response(status, content=content, headers=headers or {})

    return make_client(sim, clock, sleeps, transport=httpx.MockTransport(answer))


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        ({"errno": 1, "error": "auth failed"}, ProviderAuthError, None),
        ({"errno": 3, "error": "parameter required: imei"}, ProviderRejected, "3"),
        ({"errno": 2001, "error": "device not online"}, ProviderRejected, "2001"),
        ({"errno": 5006, "error": "system logic limit"}, ProviderRejected, "5006"),
        ({"errno": "5108", "error": "invalid parameter"}, ProviderRejected, "5108"),
        ({"errno": 5117, "error": "rpc error"}, ProviderUnavailable, None),
        ({"error": "succ", "data": {}}, ProviderProtocolError, None),
        ({"errno": "zero"}, ProviderProtocolError, None),
        ([1, 2], ProviderProtocolError, None),
        (
            {"errno": 0, "error": "succ", "data": {"total_count": 1, "devices": "x"}},
            ProviderProtocolError,
            None,
        ),
        ({"errno": 0, "error": "succ", "data": [1]}, ProviderProtocolError, None),
    ],
)
async def test_envelope_errors_map_to_the_taxonomy(sim, clock, sleeps, body, error, code):
    client = envelope_client(sim, clock, sleeps, body)
    with pytest.raises(error) as info:
        [d async for d in client.devices()]
    if code is not None:
        assert info.value.code == code  # type: ignore[attr-defined]
    if code == "3":
        assert info.value.field == "imei"  # type: ignore[attr-defined]


async def test_errno_7_is_rate_limited_and_http_errors_map(sim, clock, sleeps):
    client = envelope_client(
        sim,
        clock,
        sleeps,
        {"errno": 7, "error": "service internal error"},
        headers={"Retry-After": "2"},
    )
    with pytest.raises(ProviderRateLimited) as info:
        [d async for d in client.devices()]
    assert info.value.retry_after == 2.0 and sleeps == [2.0, 2.0]
    down = envelope_client(sim, clock, sleeps, b"<html>bad gateway</html>", status=502)
    with pytest.raises(ProviderUnavailable):
        [d async for d in down.devices()]


async def test_client_rate_limiter_paces_calls(sim: Simulator, clock):
    ticks = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        ticks[0] += seconds

    dialect = sim.dialects[KIND]
    dialect.rate_limit = (5, 1.0)  # type: ignore[attr-defined]
    dialect.monotonic = lambda: ticks[0]  # type: ignore[attr-defined]
    options = ClientOptions(
        name="cmcc",
        base_url=sim.base_urls()[KIND],
        transport=sim.transport(),
        sleep=sleep,
        monotonic=lambda: ticks[0],
    )
    client = OneNetClient(
        options,
        api_key=SecretStr(KEY),
        clock=clock.now,
        per_second=5,
        imeis=list(sim.fleet.devices[KIND])[:12],
    )
    devices = [d async for d in client.devices()]
    assert len(devices) == 12 and slept and ticks[0] >= 2.0
    await client.aclose()


@pytest.mark.loopback
async def test_over_loopback(sim: Simulator, clock, sleeps):
    with sim.serve() as server:
        client = make_client(sim, clock, sleeps, base_url=server.base_urls()[KIND])
        assert (await client.health()).ok
        devices = [d async for d in client.devices()]
        imei = max(sim.fleet.devices[KIND], key=lambda i: len(sim.fleet.jobs_of_device(KIND, i)))
        history = await client.device_history(imei)
        assert len(devices) == 120 and len(history) == len(sim.fleet.jobs_of_device(KIND, imei))
        await client.aclose()


async def test_without_a_clock_the_client_reads_time_from_the_platform(
    sleeps: list[float],
) -> None:
    """Command times are the platform's: a laptop clock years off (here the platform's
    is) must not turn queued commands into pending ones or the reverse."""
    far = ManualClock(datetime(2031, 3, 1, 12, 0, tzinfo=UTC))
    sim = Simulator.build(kinds=[KIND], clock=far, devices=120)
    sim.dialects[KIND].rate_limit = None  # type: ignore[attr-defined]
    told = make_client(sim, far, sleeps)
    options = ClientOptions(name="cmcc", base_url=sim.base_urls()[KIND], transport=sim.transport())
    own = OneNetClient(options, api_key=SecretStr(KEY), per_second=None)
    try:
        assert abs(own.clock() - utcnow()) < timedelta(seconds=5)  # nothing seen yet
        expected = await fetch_snapshot(told)
        seen = await fetch_snapshot(own)
        assert abs(own.clock() - far.now()) < timedelta(seconds=2)
        assert Counter(u.state for u in seen.upgrades) == Counter(
            u.state for u in expected.upgrades
        )
        assert {u.state for u in seen.upgrades} & {UpgradeState.PENDING, UpgradeState.QUEUED}
    finally:
        await told.aclose()
        await own.aclose()
