"""OceanConnectClient against the simulator: data, auth, throttling, faults, writes."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
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
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnsupported,
)
from fota_tui.models import (
    CampaignSpec,
    CampaignState,
    ExecuteType,
    ProviderKind,
    UpgradeState,
)
from fota_tui.providers.base import ProviderClient
from fota_tui.providers.http import ClientOptions, RetryPolicy
from fota_tui.providers.oceanconnect.client import OceanConnectClient
from fota_tui.services.snapshot import fetch_snapshot
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.oceanconnect.dialect import OceanConnectDialect
from fota_tui.sim.fleet import Phase
from fota_tui.sim.server import Simulator

K = ProviderKind.OCEANCONNECT
APP = OceanConnectDialect.credentials["app_id"]
SECRET = OceanConnectDialect.credentials["secret"]
PHASE_STATES = {
    Phase.PENDING: UpgradeState.QUEUED,
    Phase.QUEUED: UpgradeState.QUEUED,
    Phase.SUCCEEDED: UpgradeState.SUCCEEDED,
    Phase.FAILED: UpgradeState.FAILED,
    Phase.CANCELLED: UpgradeState.CANCELLED,
    Phase.EXPIRED: UpgradeState.EXPIRED,
    Phase.SENDING: UpgradeState.SENDING,
    Phase.DOWNLOADING: UpgradeState.DOWNLOADING,
    Phase.INSTALLING: UpgradeState.IN_PROGRESS,
}


class Harness:
    """A simulator, a clock shared by both sides, and a recording fake sleep."""

    def __init__(self, devices: int = 200) -> None:
        self.clock = ManualClock()
        self.sim = Simulator.build(kinds=[K], devices=devices, clock=self.clock, seed=5)
        dialect = self.sim.dialects[K]
        assert isinstance(dialect, OceanConnectDialect)
        self.dialect = dialect
        self.fleet = self.sim.fleet
        self.sleeps: list[float] = []
        self.mono_offset = 0.0  # lets the client's clock run apart from the fleet's

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)

    def monotonic(self) -> float:
        return self.clock.now().timestamp() + self.mono_offset

    def options(self, **changes: Any) -> ClientOptions:
        values: dict[str, Any] = {
            "name": "huawei",
            "base_url": self.sim.base_urls()[K],
            "transport": self.sim.transport(),
            "sleep": self.sleep,
            "monotonic": self.monotonic,
        }
        values.update(changes)
        return ClientOptions(**values)

    def client(self, secret: str = SECRET, **changes: Any) -> OceanConnectClient:
        return OceanConnectClient(self.options(**changes), app_id=APP, secret=SecretStr(secret))


@pytest.fixture
def h() -> Harness:
    return Harness()


@pytest.fixture
async def client(h: Harness):
    c = h.client()
    yield c
    await c.aclose()


def model_devices(h: Harness, model: str) -> list[str]:
    return [d.device_id for d in h.fleet.devices[K].values() if d.model == model]


def package(h: Harness, model: str, file_type: str = "firmwarePackage") -> str:
    return next(
        f.firmware_id for f in h.fleet.firmware[K] if f.model == model and f.file_type == file_type
    )


class Rewrite(httpx.AsyncBaseTransport):
    """Delegates to the simulator, then lets a test edit JSON answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport, edit: Any) -> None:
        self.inner, self.edit = inner, edit
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        new = self.edit(request, body)
        return httpx.Response(response.status_code, headers=response.headers, content=new)


# -- reads match the fleet ------------------------------------------------------------
async def test_the_client_satisfies_the_contract_and_capabilities(client):
    assert isinstance(client, ProviderClient)
    caps = client.capabilities
    assert (
        caps.cancel_campaign,
        caps.device_groups,
        caps.max_targets_per_campaign,
        caps.rate_limit_per_minute,
    ) == (False, True, 256, 100)
    health = await client.health()
    assert health.ok and health.auth.value == "ok" and health.rate_limit_total == 100


async def test_devices_match_the_fleet(h, client):
    devices = [d async for d in client.devices()]
    assert sorted(d.device_id for d in devices) == sorted(h.fleet.devices[K])
    for device in devices:
        sim = h.fleet.devices[K][device.device_id]
        assert (device.imei, device.name, device.make, device.model, device.device_type) == (
            sim.imei,
            sim.name,
            sim.make,
            sim.model,
            sim.device_type,
        )
        assert device.online is (sim.extra["status"] == "ONLINE")
        assert device.provider_status_raw == sim.extra["status"]
        assert device.updated_at is not None and device.updated_at.utcoffset() == timedelta(0)
    upgraded = {d.device_id: d.firmware for d in devices}
    for job in h.fleet.jobs[K].values():
        if job.firmware.file_type != "firmwarePackage":
            continue
        for device_id, step in job.phases(h.clock.now()).items():
            if step.phase is Phase.SUCCEEDED:
                assert upgraded[device_id] is not None


async def test_device_pages_are_fetched_concurrently_and_kept_in_order(h):
    slow = Overlap(h.sim.transport())
    c = h.client(transport=slow)
    c.device_page_size = 7
    devices = [d.device_id async for d in c.devices()]
    newest_first = sorted(
        h.fleet.devices[K].values(), key=lambda d: (d.created_at, d.device_id), reverse=True
    )
    assert devices == [d.device_id for d in newest_first]
    assert 1 < slow.peak <= c.page_concurrency
    await c.aclose()


class Arrivals(httpx.AsyncBaseTransport):
    """Records each request's URL, its arrival on the fleet clock and the answer's status;
    ``yields`` times to the loop first so concurrent requests overlap."""

    def __init__(self, h: Harness, yields: int = 3) -> None:
        self.h, self.inner, self.yields = h, h.sim.transport(), yields
        self.urls: Counter[str] = Counter()
        self.times: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.active = self.peak = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            for _ in range(self.yields):
                await asyncio.sleep(0)
            self.urls[str(request.url)] += 1
            self.times.append(self.h.clock.now().timestamp())
            response = await self.inner.handle_async_request(request)
        finally:
            self.active -= 1
        self.statuses[response.status_code] += 1
        return response

    def count(self, suffix: str) -> int:
        return sum(n for url, n in self.urls.items() if url.split("?")[0].endswith(suffix))


async def test_one_refresh_reads_the_task_and_package_lists_once(h):
    wire = Arrivals(h)
    c = h.client(transport=wire)
    snapshot = await fetch_snapshot(c)  # devices, upgrades and campaigns at once
    assert {x.campaign_id for x in snapshot.campaigns} == set(h.fleet.jobs[K])
    assert sum(x.total for x in snapshot.campaigns) == len(snapshot.upgrades)
    assert wire.count("/operations") == 1 and wire.count("/category") == 1
    assert max(wire.urls.values()) == 1  # nothing was asked twice
    await c.aclose()


async def test_pages_go_ten_at_a_time_and_the_limiter_still_holds(h):
    wire = Arrivals(h)
    c = h.client(transport=wire)
    c.device_page_size = 10  # 20 pages
    assert len([d async for d in c.devices()]) == 200
    assert 4 < wire.peak <= c.page_concurrency == 10
    await c.aclose()

    # Ten pages wanted at once, six calls a minute allowed: the limiter paces them. (No
    # yields here: the fake sleep jumps the clock while yielded requests would wait.)
    h.clock.advance(61)  # a fresh platform window
    h.dialect.rate_limit = 6  # the platform throttles the 7th call in 60 s
    wire = Arrivals(h, yields=0)
    c = h.client(transport=wire, rate_limit_per_minute=6)
    c.device_page_size = 10
    assert len([d async for d in c.devices()]) == 200
    assert set(wire.statuses) == {200} and sum(wire.statuses.values()) == 21  # login + 20
    assert all(sum(1 for u in wire.times if t <= u < t + 60) <= 6 for t in wire.times)
    assert len(h.sleeps) >= 3  # 21 calls need four windows
    await c.aclose()


async def test_the_next_refresh_sees_tasks_created_by_another_console(h, client):
    first = await fetch_snapshot(client)
    other = h.client()  # another console creates a task
    spec = CampaignSpec(
        provider="huawei",
        firmware=package(h, "Boudica150"),
        devices=model_devices(h, "Boudica150")[:2],
    )
    (created,) = await other.create_campaign(spec)
    await other.aclose()
    assert created.campaign_id not in {x.campaign_id for x in first.campaigns}
    later = await fetch_snapshot(client)  # straight after: nothing stale is reused
    assert created.campaign_id in {x.campaign_id for x in later.campaigns}
    mine = [u.device_id for u in later.upgrades if u.campaign_id == created.campaign_id]
    assert sorted(mine) == sorted(spec.devices)


async def test_the_http_pool_holds_the_page_concurrency(h, monkeypatch):
    pools: list[int] = []
    build = ClientOptions.build_client

    def spy(self: ClientOptions, *args: Any, **kwargs: Any) -> httpx.AsyncClient:
        pools.append(max(self.max_connections, kwargs.get("concurrency", 0)))
        return build(self, *args, **kwargs)

    monkeypatch.setattr(ClientOptions, "build_client", spy)
    c = h.client(max_connections=4)
    assert (await c.health()).ok and pools == [c.page_concurrency]
    await c.aclose()


async def test_firmware_matches_the_catalogue(h, client):
    firmware = await client.firmware()
    catalogue = {f.firmware_id: f for f in h.fleet.firmware[K]}
    assert {f.firmware_id for f in firmware} == set(catalogue)
    for fw in firmware:
        sim = catalogue[fw.firmware_id]
        assert (fw.name, fw.version, fw.make, fw.model, fw.device_type, fw.protocol) == (
            sim.name,
            sim.version,
            sim.make,
            sim.model,
            sim.device_type,
            "CoAP",
        )
        assert fw.file_type == ("firmware" if sim.file_type == "firmwarePackage" else "software")
        assert fw.released_at == sim.released_at.replace(microsecond=0)


async def test_campaigns_and_upgrades_match_the_fleet_timelines(h, client):
    h.clock.advance(1500)  # move some devices into sending/downloading/installing
    h.mono_offset = -1500  # the client's token is still fresh
    campaigns = {c.campaign_id: c for c in await client.campaigns()}
    assert set(campaigns) == set(h.fleet.jobs[K])
    upgrades = [u async for u in client.upgrades()]
    now = h.clock.now()
    expected = {
        (job.job_id, device_id): PHASE_STATES[step.phase]
        for job in h.fleet.jobs[K].values()
        for device_id, step in job.phases(now).items()
    }
    assert {(u.campaign_id, u.device_id): u.state for u in upgrades} == expected
    assert {UpgradeState.DOWNLOADING, UpgradeState.IN_PROGRESS} & {u.state for u in upgrades}
    for job in h.fleet.jobs[K].values():
        campaign = campaigns[job.job_id]
        tally = Counter(expected[(job.job_id, d)] for d in job.phases(now))
        processing = sum(
            tally.pop(s, 0)
            for s in (UpgradeState.SENDING, UpgradeState.DOWNLOADING, UpgradeState.IN_PROGRESS)
        )
        assert campaign.counts[UpgradeState.IN_PROGRESS] == processing
        assert all(campaign.counts[s] == n for s, n in tally.items())
        assert (
            campaign.total == len(job.phases(now)) and campaign.firmware_to == job.firmware.version
        )
    states = {c.state for c in campaigns.values()}
    assert {CampaignState.CANCELLED, CampaignState.QUEUED, CampaignState.IN_PROGRESS} <= states
    failed = [u for u in upgrades if u.state is UpgradeState.FAILED]
    assert failed and all(u.provider_reason and u.provider_status_raw == "fail" for u in failed)


async def test_subtask_pages_of_all_tasks_share_one_window_and_survive_bad_counts(h):
    def undercount(request: httpx.Request, body: bytes) -> bytes:
        if request.url.path.endswith("/operations"):
            data = json.loads(body)
            for task in data["data"]:
                task["staResult"]["total"] = 1  # wrong: totalCount of the pages decides
            return json.dumps(data).encode()
        return body

    slow = Overlap(Rewrite(h.sim.transport(), undercount))
    c = h.client(transport=slow)
    c.task_page_size = 5
    upgrades = [(u.campaign_id, u.device_id) async for u in c.upgrades()]
    now = h.clock.now()
    expected = [(j.job_id, d) for j in h.fleet.jobs[K].values() for d in j.phases(now)]
    assert sorted(upgrades) == sorted(expected) and len(set(upgrades)) == len(upgrades)
    assert slow.peak > 1
    await c.aclose()


async def test_success_with_failures_is_partial_and_timeouts_are_expired(h, client):
    h.clock.advance(8 * 86400)
    h.mono_offset = -8 * 86400
    campaigns = await client.campaigns()
    partial = [c for c in campaigns if c.state is CampaignState.PARTIAL]
    assert partial and all(str(c.provider_status_raw) == "SUCCESS" for c in partial)
    assert all(c.counts[UpgradeState.FAILED] + c.counts[UpgradeState.EXPIRED] for c in partial)
    upgrades = [u async for u in client.upgrades()]
    assert any(
        u.state is UpgradeState.EXPIRED and u.provider_status_raw == "timeout" for u in upgrades
    )


async def test_campaign_detail_history_and_not_found(h, client):
    job = max(h.fleet.jobs[K].values(), key=lambda j: len(j.targets))
    detail = await client.campaign(job.job_id)
    assert detail.campaign.campaign_id == job.job_id
    assert sorted(d.device_id for d in detail.devices) == sorted(job.targets)
    with pytest.raises(ProviderNotFound) as err:
        await client.campaign("f" * 24)
    assert err.value.code == "123009"
    device_id = next(iter(job.targets))
    history = await client.device_history(device_id)
    expected = [j.job_id for j in h.fleet.jobs_of_device(K, device_id)]
    assert sorted(u.campaign_id for u in history) == sorted(expected)
    created = [u.created_at for u in history]
    assert created == sorted(created, reverse=True)


# -- auth -----------------------------------------------------------------------------
async def test_concurrent_requests_share_one_login(h, client):
    await asyncio.gather(*(client.firmware() for _ in range(6)))
    assert client.auth.logins == 1 and h.dialect.issued == 1


async def test_proactive_refresh_before_expiry(h, client):
    await client.firmware()
    h.clock.advance(3590)  # within the renewal margin on both clocks
    await client.firmware()
    assert (client.auth.logins, client.auth.refreshes) == (1, 1)


async def test_server_side_expiry_refreshes_once_then_retries(h, client):
    await client.firmware()
    h.clock.advance(3700)
    h.mono_offset = -3700  # the client believes its token is still fresh
    assert await client.firmware()
    assert (client.auth.logins, client.auth.refreshes) == (1, 1)


async def test_revoked_tokens_fall_back_to_a_new_login(h, client):
    await client.firmware()
    h.dialect.expire_tokens()  # refresh token gone too
    assert await client.firmware()
    assert (client.auth.logins, client.auth.refreshes) == (2, 0)


async def test_token_expiry_on_every_call_never_loops_logins(h, client):
    await client.firmware()
    h.sim.faults.set(K, token_expiry=1.0)
    with pytest.raises(ProviderAuthError) as err:
        await client.firmware()
    assert "1010005" in str(err.value)
    assert client.auth.logins == 2  # first login + exactly one renewal


async def test_wrong_secret_is_an_auth_error_without_the_secret(h):
    c = h.client(secret="s3cr3t-value")
    with pytest.raises(ProviderAuthError) as err:
        await c.firmware()
    assert "100208" in str(err.value) and "s3cr3t-value" not in str(err.value)
    assert "s3cr3t-value" not in repr(c)
    health = await c.health()
    assert not health.ok and health.auth.value == "failed"
    await c.aclose()


async def test_string_expires_in_is_accepted(h, client):
    h.dialect.issued = 1  # the next login answers expiresIn as "3600"
    await client.firmware()
    assert client.auth.token is not None
    assert client.auth.token.renew_at == pytest.approx(h.monotonic() + 3540)


async def test_app_key_header_and_form_login_are_sent(h):
    spy = Rewrite(h.sim.transport(), lambda req, body: body)
    c = h.client(transport=spy)
    await c.firmware()
    login, call = spy.requests[0], spy.requests[1]
    assert login.url.path.endswith("/iocm/app/sec/v1.1.0/login")
    assert login.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.headers["app_key"] == APP and call.headers["authorization"].startswith("Bearer ")
    await c.aclose()


# -- throttling and limits ------------------------------------------------------------
async def test_client_side_limiter_stays_under_the_platform_limit(h):
    h.dialect.rate_limit = 5  # the platform throttles the 6th call in 60 s
    c = h.client(rate_limit_per_minute=5)
    for _ in range(12):
        await c.firmware()  # would be throttled without the client-side limiter
    assert len(h.sleeps) >= 2 and h.sleeps[0] == pytest.approx(60.0, abs=0.01)
    assert "throttle" not in h.sim.faults.injected
    await c.aclose()


async def test_default_rate_limit_is_set_when_the_option_is_none(h):
    options = h.options()
    assert options.rate_limit_per_minute is None
    c = OceanConnectClient(options, app_id=APP, secret=SecretStr(SECRET))
    assert c.limiter is not None and c.limiter.calls == 100
    assert options.rate_limit_per_minute is None  # the caller's options are untouched


async def test_real_throttle_answer_becomes_rate_limited_with_retry_after(h, client):
    await client.firmware()
    h.dialect.rate_limit = 2  # the platform allows fewer calls than the client expects
    await client.firmware()
    with pytest.raises(ProviderRateLimited) as err:
        await client.firmware()
    assert "1010009" in str(err.value)
    assert err.value.retry_after == pytest.approx(60.0, abs=0.01)  # surfaced: over 30 s
    assert h.sleeps == []


async def test_throttle_near_window_end_is_waited_out_and_retried(h, client):
    await client.firmware()
    h.clock.advance(50)
    h.sim.faults.script(K, "throttle", method="GET")
    assert await client.firmware()
    assert h.sleeps == [pytest.approx(10.0, abs=0.01)]


# -- faults ---------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_malformed_and_truncated_bodies_are_protocol_errors(h, client, fault):
    await client.firmware()
    h.sim.faults.set(K, **{fault: 1.0})
    with pytest.raises(ProviderProtocolError):
        await client.campaigns()


@pytest.mark.parametrize(
    "edit",
    [
        lambda data: {**data, "devices": "none"},
        lambda data: {**data, "totalCount": "lots"},
        lambda data: {**data, "devices": [{"deviceInfo": {}}]},
        lambda data: {**data, "devices": [{**data["devices"][0], "creationTime": 17}]},
        lambda data: [data],
    ],
)
async def test_wrongly_typed_answers_are_protocol_errors(h, edit):
    def rewrite(request: httpx.Request, body: bytes) -> bytes:
        if "/dm/" in request.url.path:
            return json.dumps(edit(json.loads(body))).encode()
        return body

    c = h.client(transport=Rewrite(h.sim.transport(), rewrite))
    with pytest.raises(ProviderProtocolError):
        [d async for d in c.devices()]
    await c.aclose()


async def test_reads_are_retried_after_5xx_and_resets(h, client):
    await client.firmware()
    h.sim.faults.script(K, "error", method="GET")
    h.sim.faults.script(K, "reset", method="GET")
    assert await client.firmware()
    assert h.sleeps == [0.5, 1.0]


async def test_persistent_5xx_is_unavailable(h):
    c = h.client(retry=RetryPolicy(attempts=2))
    await c.firmware()
    h.sim.faults.set(K, error=1.0)
    with pytest.raises(ProviderUnavailable, match="50252"):
        await c.firmware()
    await c.aclose()


async def test_unknown_status_is_kept_raw(h):
    def rewrite(request: httpx.Request, body: bytes) -> bytes:
        return body.replace(b'"status": "wait"', b'"status": "PAUSED"').replace(
            b'"status": "WAIT"', b'"status": "HALTED"'
        )

    c = h.client(transport=Rewrite(h.sim.transport(), rewrite))
    upgrades = [u async for u in c.upgrades()]
    paused = [u for u in upgrades if u.provider_status_raw == "PAUSED"]
    assert paused and all(u.state is UpgradeState.UNKNOWN for u in paused)
    halted = [x for x in await c.campaigns() if x.provider_status_raw == "HALTED"]
    assert halted and all(x.state is CampaignState.UNKNOWN for x in halted)
    await c.aclose()


async def test_profile_status_map_overrides_case_insensitively(h):
    c = h.client(status_map={"wait": "pending", "success": "failed"})
    upgrades = [u async for u in c.upgrades()]
    assert not any(u.state is UpgradeState.QUEUED for u in upgrades)
    assert any(u.state is UpgradeState.PENDING for u in upgrades)
    assert any(
        x.state is CampaignState.PENDING and x.provider_status_raw == "WAIT"
        for x in await c.campaigns()
    )
    await c.aclose()


# -- writes ---------------------------------------------------------------------------
async def test_create_then_cancel_round_trip(h, client):
    devices = model_devices(h, "BC95-B8")[:4]
    spec = CampaignSpec(
        provider="huawei",
        firmware=package(h, "BC95-B8", "softwarePackage"),
        devices=devices,
        options={"file_type": "software", "retry": True},
        retry_times=2,
    )
    [created] = await client.create_campaign(spec)
    assert created.state is CampaignState.QUEUED and created.total == 4
    job = h.fleet.jobs[K][created.campaign_id]
    assert sorted(job.targets) == sorted(devices)
    assert job.meta["policy"]["retryTimes"] == 2 and job.meta["operateType"] == "software_upgrade"
    assert created.campaign_id in {c.campaign_id for c in await client.campaigns()}
    with pytest.raises(ProviderUnsupported):
        await client.cancel_campaign(created.campaign_id)
    after = (await client.campaign(created.campaign_id)).campaign
    assert after.state is not CampaignState.CANCELLED and job.cancelled_at is None


async def test_more_than_256_devices_split_into_several_tasks():
    h = Harness(devices=700)
    c = h.client()
    devices = model_devices(h, "Boudica150")[:300]
    spec = CampaignSpec(provider="huawei", firmware=package(h, "Boudica150"), devices=devices)
    plan = c.plan_campaign(spec)
    assert [len(p.body["targets"]["devices"]) for p in plan] == [256, 44]
    created = await c.create_campaign(spec)
    assert [x.total for x in created] == [256, 44]
    targets = [d for x in created for d in h.fleet.jobs[K][x.campaign_id].targets]
    assert sorted(targets) == sorted(devices)
    await c.aclose()


async def test_a_failing_later_task_names_the_tasks_already_created():
    h = Harness(devices=700)
    c = h.client()
    devices = model_devices(h, "Boudica150")[:256] + model_devices(h, "BC28")[:1]
    spec = CampaignSpec(provider="huawei", firmware=package(h, "Boudica150"), devices=devices)
    before = set(h.fleet.jobs[K])
    with pytest.raises(ProviderRejected) as err:
        await c.create_campaign(spec)
    [first] = set(h.fleet.jobs[K]) - before
    assert err.value.code == "123016" and "task 2 of 2 failed" in str(err.value)
    assert first in str(err.value)
    await c.aclose()


async def test_create_result_falls_back_to_a_local_record_when_the_read_fails(h, client):
    await client.firmware()
    h.sim.faults.script(K, "error", method="GET", path_contains="/operations/", times=3)
    spec = CampaignSpec(
        provider="huawei",
        firmware=package(h, "Boudica150"),
        name="pilot",
        devices=model_devices(h, "Boudica150")[:3],
    )
    [created] = await client.create_campaign(spec)
    assert created.campaign_id in h.fleet.jobs[K]
    assert (created.state, created.total, created.name) == (CampaignState.PENDING, 3, "pilot")


async def test_the_demo_profile_builds_a_working_client():
    from fota_tui.providers.registry import build_client
    from fota_tui.sim.demo import build_demo

    demo = build_demo(kinds=(K,), clock=ManualClock(), devices=100)
    [cfg] = demo.profile.providers
    c = build_client(cfg, transport=demo.transport)
    assert isinstance(c, OceanConnectClient)
    assert (await c.health()).ok
    await c.aclose()


async def test_create_by_groups_and_custom_window(h, client):
    start = h.clock.now() + timedelta(hours=1)
    spec = CampaignSpec(
        provider="huawei",
        firmware=package(h, "BC28"),
        device_groups=["GasMeter-Shenzhen"],
        execute_type=ExecuteType.CUSTOM,
        start_at=start,
        end_at=start + timedelta(days=1),
        options={"manufacturer": "Quectel", "device_type": "GasMeter", "model": "BC28"},
    )
    [created] = await client.create_campaign(spec)
    assert created.start_at == start and created.state is CampaignState.QUEUED
    job = h.fleet.jobs[K][created.campaign_id]
    assert sorted(job.targets) == sorted(h.dialect.groups["GasMeter-Shenzhen"].device_ids)


async def test_platform_rejections_carry_code_field_and_status(h, client):
    spec = CampaignSpec(
        provider="huawei", firmware=package(h, "Boudica150"), devices=model_devices(h, "BC28")[:1]
    )
    with pytest.raises(ProviderRejected) as err:
        await client.create_campaign(spec)
    assert (err.value.code, err.value.field, err.value.status) == ("123016", "fileId", 400)
    late = h.clock.now() - timedelta(hours=1)
    past = spec.model_copy(
        update={
            "devices": model_devices(h, "Boudica150")[:1],
            "execute_type": ExecuteType.CUSTOM,
            "start_at": late,
            "end_at": late + timedelta(days=1),
        }
    )
    with pytest.raises(ProviderRejected) as err:
        await client.create_campaign(past)
    assert err.value.code == "123033" and err.value.field == "policy.startTime"


@pytest.mark.parametrize("fault", ["error", "reset_after"])
async def test_creates_are_never_retried(h, client, fault):
    await client.firmware()
    before = len(h.fleet.jobs[K])
    h.sim.faults.script(K, fault, method="POST", path_contains="Upgrade")
    spec = CampaignSpec(
        provider="huawei",
        firmware=package(h, "Boudica150"),
        devices=model_devices(h, "Boudica150")[:2],
    )
    with pytest.raises(ProviderUnavailable):
        await client.create_campaign(spec)
    assert len(h.fleet.jobs[K]) == before + (1 if fault == "reset_after" else 0)
    assert h.sleeps == []


async def test_plan_is_pure_masks_secrets_and_validates(h, client):
    spec = CampaignSpec(
        provider="huawei",
        firmware="a" * 24,
        device_groups=["G1"],
        options={"manufacturer": "Huawei", "device_type": "WaterMeter", "model": "Boudica150"},
    )
    [planned] = client.plan_campaign(spec)
    assert planned.url.endswith("/iodm/northbound/v1.5.0/operations/firmwareUpgrade")
    assert planned.body["targets"] == {
        "deviceGroups": ["G1"],
        "manufacturerName": "Huawei",
        "deviceType": "WaterMeter",
        "model": "Boudica150",
    }
    assert "***" in (planned.note or "") and SECRET not in repr(planned)
    assert h.sim.requests[K] == 0
    for bad, words, field in [
        ({"options": {}}, "options.manufacturer", "options.manufacturer"),
        ({"options": {"speed": 1}}, "unknown speed", "options.speed"),
        ({"devices": ["d1"]}, "not both", "device_groups"),
        ({"device_groups": []}, "give devices", "devices"),
        ({"retry_times": 9}, "retry_times", "retry_times"),
        ({"windows": [(0, 6)]}, "windows", "windows"),
        ({"execute_type": ExecuteType.CUSTOM}, "start_at", "start_at"),
    ]:
        with pytest.raises(ProviderRejected, match=words) as caught:
            client.plan_campaign(spec.model_copy(update=bad))
        assert caught.value.field == field and caught.value.provider == "huawei"
    assert h.sim.requests[K] == 0


async def test_a_bad_spec_is_rejected_before_anything_is_sent(h, client):
    spec = CampaignSpec(provider="huawei", firmware="a" * 24, devices=[])
    with pytest.raises(ProviderRejected) as caught:
        await client.create_campaign(spec)
    assert caught.value.field == "devices" and "give devices" in caught.value.message
    assert h.sim.requests[K] == 0


@pytest.mark.loopback
async def test_loopback_round_trip(h):
    with h.sim.serve() as server:
        c = OceanConnectClient(
            ClientOptions(name="huawei", base_url=server.base_urls()[K], sleep=h.sleep),
            app_id=APP,
            secret=SecretStr(SECRET),
        )
        assert len([d async for d in c.devices()]) == 200
        spec = CampaignSpec(
            provider="huawei",
            firmware=package(h, "Boudica150"),
            devices=model_devices(h, "Boudica150")[:2],
        )
        [created] = await c.create_campaign(spec)
        assert created.campaign_id in {x.campaign_id for x in await c.campaigns()}
        await c.aclose()
