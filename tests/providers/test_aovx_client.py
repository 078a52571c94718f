"""The AOVX adapter against the simulator over real HTTP (in-process, one loopback run)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fota_tui.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnsupported,
)
from fota_tui.models import AuthState, CampaignSpec, ProviderKind, UpgradeState
from fota_tui.providers.aovx.client import AovxClient
from fota_tui.providers.aovx.normalize import STATUS_TABLE, batch_id
from fota_tui.providers.base import LocalGroup, ProviderClient
from fota_tui.providers.http import ClientOptions, RetryPolicy
from fota_tui.services.snapshot import fetch_snapshot
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.aovx.common import status_since
from fota_tui.sim.dialects.aovx.dialect import AovxDialect
from fota_tui.sim.fleet import SimFleet
from fota_tui.sim.server import Simulator

KIND = ProviderKind.AOVX
LIST = "queryLoginUserTerminalInfoList"
REPORT = "queryTerminalOtaReport"
URL = "http://files.aovx.example/FOTA/103/VG300_V2.3.1.bin"
PASSWORD = AovxDialect.credentials["password"]
TUNING = ("page_size", "id_batch", "concurrency")  # AovxClient keywords


# -- fixtures and helpers -------------------------------------------------------------
@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator.build(kinds=[KIND], clock=clock, devices=200)


@pytest.fixture
def dialect(sim: Simulator) -> AovxDialect:
    d = sim.dialects[KIND]
    assert isinstance(d, AovxDialect)
    return d


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def make(sim: Simulator, sleeps: list[float]):
    clients: list[AovxClient] = []

    def build(
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        status_map: dict[str, str] | None = None,
        base_url: str | None = None,
        monotonic: Callable[[], float] | None = None,
        **credentials: Any,
    ) -> AovxClient:
        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)

        options = ClientOptions(
            name="aovx-test",
            base_url=base_url or sim.base_urls()[KIND],
            transport=transport if transport is not None else sim.transport(),
            sleep=fake_sleep,
            status_map=status_map or {},
        )
        if monotonic is not None:
            options.monotonic = monotonic
        tuning = {k: credentials.pop(k) for k in TUNING if k in credentials}
        if not credentials:
            credentials = {"username": "demo", "password": SecretStr(PASSWORD)}
        client = AovxClient(options, **credentials, **tuning)
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


class Tap(httpx.AsyncBaseTransport):
    """Passes requests to the simulator; records them and can rewrite JSON answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, Any]] = []
        self.rewrites: list[tuple[str, Callable[[Any], Any]]] = []
        self.in_flight = self.max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.requests.append((request.url.path, json.loads(body) if body else None))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let concurrent requests overlap
            response = await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1
        for part, rewrite in self.rewrites:
            if request.url.path.endswith(part):
                payload = rewrite(json.loads(await response.aread()))
                headers = {k: v for k, v in response.headers.items() if k != "content-length"}
                content = json.dumps(payload, ensure_ascii=False).encode()
                return httpx.Response(response.status_code, headers=headers, content=content)
        return response

    def bodies(self, part: str) -> list[Any]:
        return [body for path, body in self.requests if path.endswith(part)]


def fleet_records(sim: Simulator) -> dict[tuple[str, str], int]:
    """(terminal, expected campaign id) → raw status, with re-sends within a minute dropped."""
    now = sim.fleet.now()
    rows = []
    for job in sim.fleet.jobs[KIND].values():
        package = (job.meta["version"], job.meta["url"])
        for target in job.targets.values():
            rows.append((target.device_id, package, target.added_at, job, target))
    expected = {}
    for device_id, package, sent, job, target in rows:
        resent = any(
            d == device_id and p == package and sent < s <= sent + timedelta(minutes=1)
            for d, p, s, _, _ in rows
        )
        if not resent:
            key = (device_id, batch_id(*package, sent))
            expected[key] = status_since(job, target, now)[0]
    return expected


async def raw_login(sim: Simulator) -> str:
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_urls()[KIND]) as c:
        body = {"userName": "demo", "password": hashlib.md5(PASSWORD.encode()).hexdigest()}
        return str((await c.post("/system/user/login", json=body)).json()["data"]["tokenId"])


async def raw_send(sim: Simulator, ids: list[str], version: str = "VG300_V2.3.1") -> None:
    token = await raw_login(sim)
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_urls()[KIND]) as c:
        body = {
            "terminalIds": ids,
            "type": 0,
            "mode": 0,
            "protocol": 1,
            "version": version,
            "fileUrl": URL,
        }
        answer = await c.post(
            "/system/asset/command/sendOtaCommand", json=body, headers={"token": token}
        )
        assert answer.json()["code"] == 200


def spec(devices: list[str], **changes: Any) -> CampaignSpec:
    return CampaignSpec(provider="aovx-test", firmware=URL, devices=devices, **changes)


# -- the contract over the simulator ------------------------------------------------------
async def test_is_a_provider_client_with_the_documented_capabilities(make):
    client = make()
    assert isinstance(client, ProviderClient)
    caps = client.capabilities
    assert not caps.returns_job_id and not caps.native_campaigns and not caps.cancel_campaign


async def test_devices_match_the_fleet(make, sim):
    devices = [d async for d in make().devices()]
    fleet = sim.fleet.devices[KIND]
    assert [d.device_id for d in devices] == list(fleet)
    for device in devices:
        sim_device = fleet[device.device_id]
        assert device.imei == sim_device.imei
        assert device.name == (sim_device.extra["vehicleNum"] or sim_device.extra["customNum"])
        assert device.device_type == "JT/T808-2013"
        assert device.provider_status_raw == sim_device.extra["status"]
    assert any("-" in d.device_id for d in devices)  # dashed UUID ids are kept as is


async def test_upgrades_match_the_fleet_through_the_status_table(make, sim):
    upgrades = [u async for u in make().upgrades()]
    expected = fleet_records(sim)
    got = {(u.device_id, u.campaign_id): u for u in upgrades}
    assert len(got) == len(upgrades) == len(expected)
    for key, raw in expected.items():
        upgrade = got[key]
        assert upgrade.provider_status_raw == raw
        assert upgrade.state is STATUS_TABLE[raw][0]
        assert upgrade.created_at is not None and upgrade.created_at.tzinfo is UTC
        assert upgrade.updated_at is not None and upgrade.updated_at >= upgrade.created_at
    states = Counter(u.state for u in upgrades)
    assert {
        UpgradeState.SENDING,
        UpgradeState.DOWNLOADING,
        UpgradeState.SUCCEEDED,
        UpgradeState.FAILED,
    } <= set(states)
    delivery = [u for u in upgrades if u.provider_status_raw == -1]
    assert delivery and all(
        "delivery failed/timeout" in (u.provider_reason or "") for u in delivery
    )


async def test_campaigns_are_the_fleet_sends_with_counts(make, sim):
    campaigns = await make().campaigns()
    expected = Counter(cid for _, cid in fleet_records(sim))
    assert {c.campaign_id: c.total for c in campaigns} == dict(expected)
    by_id = {c.campaign_id: c for c in campaigns}
    for job in sim.fleet.jobs[KIND].values():
        campaign = by_id[batch_id(job.meta["version"], job.meta["url"], job.created_at)]
        assert campaign.local and campaign.firmware_to == job.meta["version"]
        assert campaign.firmware_name == job.meta["url"].rsplit("/", 1)[-1]
        assert campaign.created_at == job.created_at
        assert sum(campaign.counts.values()) == campaign.total
    assert [c.created_at for c in campaigns] == sorted(
        (c.created_at for c in campaigns), reverse=True
    )


async def test_campaign_detail_and_device_history(make, sim):
    client = make()
    job = max(sim.fleet.jobs[KIND].values(), key=lambda j: len(j.targets))
    campaign_id = batch_id(job.meta["version"], job.meta["url"], job.created_at)
    detail = await client.campaign(campaign_id)
    assert detail.campaign.campaign_id == campaign_id
    assert {d.device_id for d in detail.devices} == set(job.targets)
    device_id = next(iter(job.targets))
    history = await client.device_history(device_id)
    jobs = sim.fleet.jobs_of_device(KIND, device_id)
    assert len(history) == len(jobs)
    assert campaign_id in {u.campaign_id for u in history}
    assert [u.created_at for u in history] == sorted((u.created_at for u in history), reverse=True)
    with pytest.raises(ProviderNotFound):
        await client.campaign("20200101T000000Z-00000000")
    with pytest.raises(ProviderNotFound):
        await client.campaign("no-such-campaign")


async def test_firmware_lists_the_packages_seen_in_the_report(make, sim):
    firmware = await make().firmware()
    urls = {f.url for f in firmware}
    assert urls == {j.meta["url"] for j in sim.fleet.jobs[KIND].values()}
    catalog = {f.url: f for f in sim.fleet.firmware[KIND]}
    for item in firmware:
        assert item.version == catalog[item.url].version and item.protocol == "HTTP"


async def test_device_and_online_status(make, sim):
    client = make()
    devices = list(sim.fleet.devices[KIND].values())
    device = await client.device(devices[0].device_id)
    assert device.online is devices[0].online
    no_acc = next(d for d in devices if d.extra["acc"] is None)  # acc absent in the answer
    assert await client.online(no_acc.device_id) is no_acc.online
    with pytest.raises(ProviderNotFound):
        await client.online("F" * 32)


# -- auth -----------------------------------------------------------------------------
async def test_token_expiry_on_the_fleet_clock_relogs_in_once(make, clock):
    client = make()
    assert (await client.health()).auth is AuthState.OK
    clock.advance(2 * 3600 + 1)
    assert len([d async for d in client.devices()]) == 200
    assert client.auth.logins == 2


async def test_injected_token_expiry_and_concurrent_requests_share_one_login(make, sim):
    tap = Tap(sim.transport())  # yields between requests so they really overlap
    client = make(tap)
    await client.health()
    sim.dialects[KIND].expire_tokens()
    ids = list(sim.fleet.devices[KIND])[:6]
    results = await asyncio.gather(*(client.online(i) for i in ids))
    assert len(results) == 6 and client.auth.logins == 2
    assert tap.max_in_flight > 1 and len(tap.bodies("/system/user/login")) == 2
    sim.faults.script(KIND, "token_expiry")
    await client.online(ids[0])
    assert client.auth.logins == 3


async def test_chinese_token_message_with_another_code_also_relogs_in(make, dialect):
    client = make()
    await client.health()
    dialect.token_code = 500
    dialect.expire_tokens()
    dialect.token_invalid_message = "token失效"
    await client.health()
    assert client.auth.logins == 2 and client.auth_state is AuthState.OK


async def test_a_token_rejected_again_after_relogin_is_an_auth_error_not_a_loop(make, dialect):
    dialect.token_ttl = timedelta(0)  # every token is dead on arrival
    client = make()
    with pytest.raises(ProviderAuthError, match="失效"):
        await client.online(next(iter(dialect.fleet.devices[KIND])))
    assert client.auth.logins == 2


async def test_fixed_token_works_and_raises_auth_error_when_invalid(make, sim):
    token = await raw_login(sim)
    client = make(token=SecretStr(token))
    assert len([d async for d in client.devices()]) == 200
    before = sim.requests[KIND]
    sim.dialects[KIND].expire_tokens()
    with pytest.raises(ProviderAuthError, match="token invalid"):
        await client.online(next(iter(sim.fleet.devices[KIND])))
    assert sim.requests[KIND] == before + 1  # no login, no retry
    health = await client.health()
    assert not health.ok and health.auth is AuthState.FAILED


async def test_wrong_password_is_one_login_and_an_auth_error(make, sim):
    client = make(username="demo", password=SecretStr("not-the-password"))
    with pytest.raises(ProviderAuthError) as caught:
        await client.online(next(iter(sim.fleet.devices[KIND])))
    assert "用户名或密码错误" in str(caught.value) and "not-the-password" not in str(caught.value)
    assert sim.requests[KIND] == 1
    health = await client.health()
    assert not health.ok and health.auth is AuthState.FAILED
    tap = Tap(sim.transport())
    together = make(tap, username="demo", password=SecretStr("not-the-password"))
    ids = list(sim.fleet.devices[KIND])[:4]
    results = await asyncio.gather(*(together.online(i) for i in ids), return_exceptions=True)
    assert all(isinstance(r, ProviderAuthError) for r in results)
    assert len(tap.bodies("/system/user/login")) == 1  # waiters share the failed login


async def test_login_path_is_configurable(clock, make):
    fleet = SimFleet(clock)
    dialect = AovxDialect(fleet, login_path="/api/login/userLogin")
    dialect.seed(30, random.Random(3))
    custom = Simulator(fleet, {KIND: dialect})
    right = make(
        custom.transport(),
        base_url=custom.base_urls()[KIND],
        username="demo",
        password=SecretStr(PASSWORD),
        login_path="api/login/userLogin",
    )
    assert len([d async for d in right.devices()]) == 30
    wrong = make(
        custom.transport(),
        base_url=custom.base_urls()[KIND],
        username="demo",
        password=SecretStr(PASSWORD),
    )
    with pytest.raises(ProviderAuthError, match="login_path"):
        await wrong.online(next(iter(fleet.devices[KIND])))


async def test_password_already_hashed_and_bad_configs(make, sim):
    digest = hashlib.md5(PASSWORD.encode()).hexdigest().upper()
    client = make(username="demo", password=SecretStr(digest), password_is_md5=True)
    assert (await client.health()).ok
    with pytest.raises(ConfigError, match="32-character") as caught:
        make(username="demo", password=SecretStr("plain-secret"), password_is_md5=True)
    assert "plain-secret" not in str(caught.value)
    with pytest.raises(ConfigError, match="token"):
        make(username=None)
    with pytest.raises(ConfigError, match="together"):
        make(username="demo")


# -- errors, retries, throttling ----------------------------------------------------------
async def test_throttling_is_retried_after_retry_after(make, sim, sleeps):
    client = make()
    sim.faults.script(KIND, "throttle", path_contains=REPORT)
    assert len([u async for u in client.upgrades()]) == len(fleet_records(sim))
    assert sleeps == [1.0]
    sim.faults.set(KIND, throttle=1.0)
    with pytest.raises(ProviderRateLimited) as caught:
        await client.online(next(iter(sim.fleet.devices[KIND])))
    assert caught.value.retry_after == 1.0 and sleeps == [1.0, 1.0, 1.0]


async def test_throttling_without_retry_after_backs_off(make, sim, dialect, sleeps):
    dialect.retry_after = None
    client = make()
    sim.faults.script(KIND, "throttle", path_contains=LIST)
    assert len([d async for d in client.devices()]) == 200
    assert sleeps == [0.5]


async def test_server_errors_are_retried_for_reads(make, sim, sleeps):
    client = make()
    sim.faults.script(KIND, "error", path_contains=LIST, times=2)
    assert len([d async for d in client.devices()]) == 200
    assert sleeps == [0.5, 1.0]
    sim.faults.set(KIND, error=1.0)
    with pytest.raises(ProviderUnavailable):
        await client.online(next(iter(sim.fleet.devices[KIND])))


async def test_creates_are_never_retried(make, sim, sleeps):
    client = make()
    await client.health()
    ids = list(sim.fleet.devices[KIND])[:2]
    jobs = len(sim.fleet.jobs[KIND])
    sim.faults.script(KIND, "error", path_contains="sendOtaCommand")
    with pytest.raises(ProviderUnavailable):
        await client.create_campaign(spec(ids))
    assert len(sim.fleet.jobs[KIND]) == jobs and sleeps == []
    sim.faults.script(KIND, "reset_after", path_contains="sendOtaCommand")
    with pytest.raises(ProviderUnavailable):
        await client.create_campaign(spec(ids))
    assert len(sim.fleet.jobs[KIND]) == jobs + 1 and sleeps == []  # sent once, not again


async def test_envelope_failure_code_on_create_is_unavailable_and_not_retried(make, sim):
    tap = Tap(sim.transport())
    tap.rewrites.append(("sendOtaCommand", lambda b: {"code": 500, "message": "系统异常"}))
    client = make(tap)
    with pytest.raises(ProviderUnavailable, match="系统异常"):
        await client.create_campaign(spec(list(sim.fleet.devices[KIND])[:1]))
    assert len(tap.bodies("sendOtaCommand")) == 1


async def test_platform_rejections_keep_code_and_message(make, sim):
    tap = Tap(sim.transport())
    tap.rewrites.append(("sendOtaCommand", lambda b: {"code": 10086, "message": "固件不存在"}))
    with pytest.raises(ProviderRejected) as caught:
        await make(tap).create_campaign(spec(list(sim.fleet.devices[KIND])[:1]))
    assert caught.value.code == "10086" and "固件不存在" in str(caught.value)
    with pytest.raises(ProviderNotFound, match="终端不存在"):
        await make().create_campaign(spec(["0" * 32]))


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_malformed_and_truncated_bodies_are_protocol_errors(make, sim, sleeps, fault):
    client = make()
    await client.health()
    sim.faults.script(KIND, fault, path_contains=REPORT, times=RetryPolicy().attempts)
    with pytest.raises(ProviderProtocolError):
        _ = [u async for u in client.upgrades()]
    assert sleeps == [0.5, 1.0]  # every try of the read, then the error


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_one_malformed_or_truncated_body_is_retried(make, sim, sleeps, fault):
    client = make()
    await client.health()
    sim.faults.script(KIND, fault, path_contains=REPORT)
    assert [u async for u in client.upgrades()]
    assert sim.faults.injected == {fault: 1} and sleeps == [0.5]


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda b: [b],  # not an object
        lambda b: {**b, "code": "OK"},  # code is not a number
        lambda b: {**b, "data": "nothing"},  # data is not a page
        lambda b: {**b, "data": {**b["data"], "data": [{"terminalId": None}]}},
        lambda b: {**b, "data": {**b["data"], "total": "many"}},
    ],
)
async def test_wrongly_typed_bodies_are_protocol_errors(make, sim, rewrite):
    tap = Tap(sim.transport())
    tap.rewrites.append((REPORT, rewrite))
    with pytest.raises(ProviderProtocolError):
        _ = [u async for u in make(tap).upgrades()]


async def test_unknown_status_and_invalid_upgrade_info_are_kept_raw(make, sim):
    def odd(body: dict[str, Any]) -> dict[str, Any]:
        rows = body["data"]["data"]
        if len(rows) >= 3:
            rows[0]["status"] = 7
            rows[1]["status"] = "weird"
            rows[2]["upgradeInfo"] = '{"TYPE":"0","VERSION": broken'
        return body

    tap = Tap(sim.transport())
    tap.rewrites.append((REPORT, odd))
    upgrades = [u async for u in make(tap).upgrades()]
    raw = {u.provider_status_raw for u in upgrades if u.state is UpgradeState.UNKNOWN}
    assert {7, "weird"} <= raw
    broken = [u for u in upgrades if "not valid JSON" in (u.provider_reason or "")]
    assert broken and all(u.firmware_to is None and u.campaign_id for u in broken)


async def test_profile_status_map_overrides_the_table(make, sim):
    client = make(status_map={"1": "queued", "-1": "expired"})
    upgrades = [u async for u in client.upgrades()]
    by_raw = {u.provider_status_raw: u.state for u in upgrades}
    assert by_raw[1] is UpgradeState.QUEUED and by_raw[-1] is UpgradeState.EXPIRED
    assert by_raw[3] is UpgradeState.SUCCEEDED


# -- documented quirks ----------------------------------------------------------------------
async def test_total_and_size_as_strings_on_every_page(make, dialect):
    dialect.string_counts_every = 1
    client = make(page_size=30)
    assert len({d.device_id async for d in client.devices()}) == 200


async def test_paging_stops_at_size_and_at_a_short_page(make, sim):
    tap = Tap(sim.transport())
    tap.rewrites.append((LIST, lambda b: {**b, "data": {**b["data"], "size": 2}}))
    client = make(tap, page_size=30)
    assert len([d async for d in client.devices()]) == 60
    assert [b["pageNum"] for b in tap.bodies(LIST)] == [1, 2]
    tap.rewrites = [(LIST, lambda b: {**b, "data": {**b["data"], "size": "999"}})]
    tap.requests.clear()
    client = make(tap, page_size=30)  # a new client: the first one's listing is shared
    assert len({d.device_id async for d in client.devices()}) == 200
    assert len(tap.bodies(LIST)) <= 7 + client.concurrency  # 7 pages, a few in flight at most


async def test_pages_and_batches_are_fetched_concurrently_but_bounded(make, sim):
    tap = Tap(sim.transport())
    client = make(tap, page_size=20, id_batch=25)
    upgrades = [u async for u in client.upgrades()]
    assert len(upgrades) == len(fleet_records(sim))
    assert 1 < tap.max_in_flight <= client.concurrency


class Capped(httpx.AsyncBaseTransport):
    """A server that silently serves at most ``cap`` rows per page, whatever is asked."""

    def __init__(self, inner: httpx.AsyncBaseTransport, cap: int) -> None:
        self.inner, self.cap = inner, cap
        self.asked: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(await request.aread() or b"null")
        if isinstance(body, dict) and "pageSize" in body:
            self.asked.append(body["pageSize"])
            body["pageSize"] = min(body["pageSize"], self.cap)
            headers = [(k, v) for k, v in request.headers.items() if k != "content-length"]
            request = httpx.Request(request.method, request.url, headers=headers, json=body)
        return await self.inner.handle_async_request(request)


async def test_one_refresh_lists_terminals_once_and_reads_the_report_once(make, sim):
    tap = Tap(sim.transport())
    client = make(tap, page_size=20, id_batch=25)
    snapshot = await fetch_snapshot(client)  # devices, upgrades and campaigns at once
    assert len(snapshot.devices) == 200 and snapshot.campaigns
    assert len(snapshot.upgrades) == len(fleet_records(sim))
    assert sum(c.total for c in snapshot.campaigns) == len(snapshot.upgrades)
    assert [b["pageNum"] for b in tap.bodies(LIST)] == list(range(1, 11))  # each page once
    reports = [json.dumps(b, sort_keys=True) for b in tap.bodies(REPORT)]
    assert len(reports) == len(set(reports))  # no report query twice
    first_pages = [i for b in tap.bodies(REPORT) if b["pageNum"] == 1 for i in b["ids"]]
    assert sorted(first_pages) == sorted(sim.fleet.devices[KIND])  # each terminal once


async def test_a_default_refresh_is_a_few_large_requests(make, sim):
    tap = Tap(sim.transport())
    snapshot = await fetch_snapshot(make(tap))
    assert len(snapshot.devices) == 200 and len(snapshot.upgrades) == len(fleet_records(sim))
    # login, one terminal page, one report query (page size and id batch 500)
    assert [path.rsplit("/", 1)[-1] for path, _ in tap.requests] == ["login", LIST, REPORT]


async def test_a_silently_capped_page_size_is_paged_at_the_served_size(make, sim):
    capped = Capped(sim.transport(), cap=30)
    client = make(capped)
    assert len({d.device_id async for d in client.devices()}) == 200
    assert len([u async for u in client.upgrades()]) == len(fleet_records(sim))
    assert capped.asked[:2] == [500, 30] and set(capped.asked) == {500, 30}


async def test_the_next_refresh_sees_sends_by_another_console(make, sim):
    """A console of the same profile records its send in the shared journal: the next
    refresh asks for those terminals. A send from elsewhere shows on the full sweep."""
    client = make()
    first = await fetch_snapshot(client)
    ids = list(sim.fleet.devices[KIND])[:3]
    await raw_send(sim, ids, version="VG300_V9")  # another console sends an update
    assert not [u for u in first.upgrades if u.firmware_to == "VG300_V9"]
    client._sent.append(  # what the journal holds for that console's send
        LocalGroup("ft-9", "aovx-test", sim.fleet.now(), tuple(ids))
    )
    later = await fetch_snapshot(client)  # straight after: nothing stale is reused
    assert not later.health.full_read
    news = [u for u in later.upgrades if u.firmware_to == "VG300_V9"]
    assert sorted(u.device_id for u in news) == sorted(ids)

    more = list(sim.fleet.devices[KIND])[3:5]
    await raw_send(sim, more, version="VG300_V10")  # elsewhere: no journal of ours
    quiet = await fetch_snapshot(client)
    assert not [u for u in quiet.upgrades if u.firmware_to == "VG300_V10"]
    swept = await fetch_snapshot(client, full=True)
    news = [u for u in swept.upgrades if u.firmware_to == "VG300_V10"]
    assert sorted(u.device_id for u in news) == sorted(more)


async def test_a_create_drops_the_shared_report(make, sim):
    ids = [d.device_id for d in sim.fleet.devices[KIND].values() if d.online][:4]
    client = make()
    await client.campaigns()
    (created,) = await client.create_campaign(spec(ids))
    listed = {c.campaign_id: c for c in await client.campaigns()}
    counts = listed[created.campaign_id].counts
    assert counts.get(UpgradeState.PENDING, 0) == 0  # read from the report, not placeholders
    assert sum(counts.values()) == 4


async def test_paging_options_are_checked_and_the_pool_holds_the_concurrency(make, monkeypatch):
    with pytest.raises(ConfigError) as caught:
        make(page_size=0)
    assert caught.value.key == "page_size"
    pools: list[int] = []
    build = ClientOptions.build_client

    def spy(self: ClientOptions, *args: Any, **kwargs: Any) -> httpx.AsyncClient:
        pools.append(max(self.max_connections, kwargs.get("concurrency", 0)))
        return build(self, *args, **kwargs)

    monkeypatch.setattr(ClientOptions, "build_client", spy)
    client = make(concurrency=30)
    assert (await client.health()).ok and pools == [30]


async def test_queries_send_both_key_fields_and_id_batches_with_utc_windows(make, sim, clock):
    tap = Tap(sim.transport())
    _ = [u async for u in make(tap, id_batch=80).upgrades()]
    listing = tap.bodies(LIST)[0]
    assert listing["queryType"] == listing["keyType"] == 0 and listing["key"] == ""
    reports = tap.bodies(REPORT)
    assert [len(b["ids"]) for b in reports] == [80, 80, 40]
    assert {i for b in reports for i in b["ids"]} == set(sim.fleet.devices[KIND])
    start = datetime.strptime(reports[0]["startTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    end = datetime.strptime(reports[0]["endTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs(start - (clock.now() - timedelta(days=90))) < timedelta(seconds=2)
    assert abs(end - (clock.now() + timedelta(days=1))) < timedelta(seconds=2)


async def test_time_windows_follow_the_server_clock_not_the_local_one(sleeps, make):
    far = ManualClock(datetime(2031, 5, 1, 12, 0, tzinfo=UTC))
    sim = Simulator.build(kinds=[KIND], clock=far, devices=60)
    client = make(sim.transport(), base_url=sim.base_urls()[KIND])
    upgrades = [u async for u in client.upgrades()]
    assert upgrades and len(upgrades) == len(fleet_records(sim))
    created = await client.create_campaign(spec(list(sim.fleet.devices[KIND])[:1]))
    assert created[0].created_at == far.now()
    fresh = make(sim.transport(), base_url=sim.base_urls()[KIND])
    device_id = next(iter(next(iter(sim.fleet.jobs[KIND].values())).targets))
    assert len(await fresh.device_history(device_id)) == len(
        sim.fleet.jobs_of_device(KIND, device_id)
    )


async def test_resends_within_a_minute_are_deduplicated(make, sim, clock):
    ids = list(sim.fleet.devices[KIND])[:3]
    await raw_send(sim, ids)
    first = clock.now()
    clock.advance(30)
    await raw_send(sim, ids)
    second = clock.now()
    clock.advance(120)
    await raw_send(sim, ids[:1])
    third = clock.now()
    history = await make().device_history(ids[0])
    mine = [u.campaign_id for u in history if u.created_at and u.created_at >= first]
    assert mine == [batch_id("VG300_V2.3.1", URL, third), batch_id("VG300_V2.3.1", URL, second)]
    campaigns = {c.campaign_id: c for c in await make().campaigns()}
    assert batch_id("VG300_V2.3.1", URL, first) not in campaigns
    assert campaigns[batch_id("VG300_V2.3.1", URL, second)].total == 3


# -- creating campaigns -----------------------------------------------------------------------
async def test_plan_is_pure_and_masks_the_token(make, sim):
    client = make()
    ids = list(sim.fleet.devices[KIND])[:2]
    plan = client.plan_campaign(spec(ids, options={"mode": 1}))
    assert sim.requests[KIND] == 0
    assert len(plan) == 1 and plan[0].method == "POST"
    assert plan[0].url.endswith("/system/asset/command/sendOtaCommand")
    assert plan[0].body == {
        "terminalIds": ids,
        "type": 0,
        "mode": 1,
        "protocol": 1,
        "version": "VG300_V2.3.1",
        "fileUrl": URL,
    }
    assert "***" in (plan[0].note or "") and PASSWORD not in repr(plan)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"options": {"speed": 1}}, "options.speed"),
        ({"options": {"type": 2}}, "options.type"),
        ({"options": {"mode": True}}, "options.mode"),
        ({"options": {"protocol": 0}}, "options.protocol"),  # FTP with an http:// URL
        ({"firmware": "VG300_V2.3.1.bin"}, "firmware"),
        ({"devices": []}, "devices"),
        ({"device_groups": ["g1"]}, "device_groups"),
        ({"windows": [(0, 6)]}, "windows"),
        ({"execute_type": "custom"}, "execute_type"),
    ],
)
async def test_invalid_specs_name_the_field(make, sim, changes, field):
    fields = {"provider": "aovx-test", "firmware": URL, "devices": ["A" * 32], **changes}
    with pytest.raises(ProviderRejected) as caught:
        make().plan_campaign(CampaignSpec(**fields))
    assert caught.value.field == field and sim.requests[KIND] == 0


async def test_version_defaults_and_options(make, sim):
    client = make()
    ids = ["A" * 32]
    assert client.plan_campaign(spec(ids))[0].body["version"] == "VG300_V2.3.1"  # file stem
    body = client.plan_campaign(spec(ids, firmware_to="2.3.1"))[0].body
    assert body["version"] == "2.3.1"
    body = client.plan_campaign(
        spec(ids, options={"version": "natives_blob", "type": "1", "mode": 1})
    )[0].body
    assert (body["version"], body["type"], body["mode"]) == ("natives_blob", 1, 1)
    ftp = CampaignSpec(provider="x", firmware="ftp://files.aovx.example/a.bin", devices=ids)
    assert client.plan_campaign(ftp)[0].body["protocol"] == 0


async def test_create_returns_a_local_campaign_whose_id_survives_refreshes(make, sim, clock):
    ids = [d.device_id for d in sim.fleet.devices[KIND].values() if d.online][:4]
    client = make()
    created = await client.create_campaign(spec(ids, name="pilot"))
    assert len(created) == 1
    campaign = created[0]
    assert campaign.local and campaign.total == 4 and campaign.name == "pilot"
    assert campaign.campaign_id == batch_id("VG300_V2.3.1", URL, clock.now())
    # the same id from this client, from a fresh one (inferred from the report), and in detail
    assert campaign.campaign_id in {c.campaign_id for c in await client.campaigns()}
    fresh = {c.campaign_id: c for c in await make().campaigns()}
    assert fresh[campaign.campaign_id].total == 4
    clock.advance(3600)
    detail = await make().campaign(campaign.campaign_id)
    assert {d.device_id for d in detail.devices} == set(ids)
    assert detail.campaign.counts[UpgradeState.SENDING] < 4  # moved on with the clock
    with pytest.raises(ProviderUnsupported):
        await client.cancel_campaign(campaign.campaign_id)


async def test_local_groups_claim_their_records_despite_clock_skew(make, sim, clock):
    ids = list(sim.fleet.devices[KIND])[:3]
    await raw_send(sim, ids)
    skewed = clock.now() - timedelta(hours=4)  # a journal written by a machine 4 h behind
    group = LocalGroup(
        campaign_id="ft-submission-1",
        provider="aovx-test",
        created_at=skewed,
        device_ids=(*ids, "B" * 32),
        name="From the journal",
        firmware=URL,
    )

    class Groups:
        def groups(self, provider: str) -> list[LocalGroup]:
            assert provider == "aovx-test"
            return [group]

    client = make(username="demo", password=SecretStr(PASSWORD), groups=Groups())
    campaigns = {c.campaign_id: c for c in await client.campaigns()}
    mine = campaigns["ft-submission-1"]
    assert mine.name == "From the journal" and mine.total == 4
    assert mine.counts[UpgradeState.PENDING] == 1  # "B"*32 is not in the report
    assert batch_id("VG300_V2.3.1", URL, clock.now()) not in campaigns
    detail = await client.campaign("ft-submission-1")
    missing = [d for d in detail.devices if d.device_id == "B" * 32]
    assert missing[0].provider_reason == "not in the OTA report yet"
    history = await client.device_history(ids[0])
    assert history[0].campaign_id == "ft-submission-1"


@pytest.mark.loopback
async def test_over_loopback_http(sim, clock, make):
    with sim.serve() as server:
        client = make(httpx.AsyncHTTPTransport(), base_url=server.base_urls()[KIND])
        assert len([d async for d in client.devices()]) == 200
        assert len([u async for u in client.upgrades()]) == len(fleet_records(sim))
        ids = list(sim.fleet.devices[KIND])[:2]
        created = await client.create_campaign(spec(ids))
        detail = await client.campaign(created[0].campaign_id)
        assert {d.device_id for d in detail.devices} == set(ids)
