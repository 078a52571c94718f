"""One contract, every adapter: the same test bodies against each platform's simulator,
in-process (``Simulator.transport()``), through the demo profile and ``registry.build_client``.

Time is fake on both sides: the simulator's fleet clock is a ``ManualClock`` and the
clients' ``sleep``/``monotonic`` (retry back-off, Retry-After, rate limiters) advance it,
so nothing really sleeps. Adding a platform is one entry in ``KINDS`` and ``TRAITS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
from provider_contract import (
    READ_CHECKS,
    MemoryGroups,
    Subject,
    boundary,
    campaign_spec,
    check_create_and_cancel,
    collect,
    secret_values,
)

from fota_tui.config.schema import ProviderConfigBase
from fota_tui.errors import (
    ProviderBadBody,
    ProviderError,
    ProviderLimitExceeded,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from fota_tui.models import CampaignSpec, ProviderKind, utcnow
from fota_tui.providers import registry
from fota_tui.providers.base import Incremental, ProviderClient
from fota_tui.providers.http import ClientOptions, RetryPolicy
from fota_tui.services.snapshot import ProviderSnapshot, fetch_snapshot
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import demo_profile
from fota_tui.sim.server import Simulator

DEVICES = 150
KINDS = [
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
]


@dataclass(frozen=True)
class Traits:
    """Where to aim a fault on each platform."""

    listing: str  # a substring of the device-listing path (an idempotent read)
    logins: tuple[str, ...]  # paths that issue tokens; () when the platform has none
    create: str  # a substring of the path a create POSTs to


TRAITS = {
    ProviderKind.THINGSPACE: Traits(
        "/fota/v1/devices/", ("/oauth2/token", "/session/login"), "/campaigns/firmware/"
    ),
    ProviderKind.OCEANCONNECT: Traits(
        "/iocm/app/dm/v1.4.0/devices", ("/sec/v1.1.0/login",), "/operations/firmwareUpgrade"
    ),
    ProviderKind.ONENET: Traits("/devices", (), "/nbiot/offline"),
    ProviderKind.AOVX: Traits(
        "/queryLoginUserTerminalInfoList", ("/system/user/login",), "/sendOtaCommand"
    ),
}


class FakeTime:
    """One clock for the simulator and the clients; ``sleep`` advances it and is recorded."""

    def __init__(self) -> None:
        self.clock = ManualClock(utcnow().replace(microsecond=0))
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(max(seconds, 0.0))


class Recorder(httpx.AsyncBaseTransport):
    """Counts requests by method and path on their way to the in-process simulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: Counter[tuple[str, str]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.method, request.url.path] += 1
        return await self.inner.handle_async_request(request)

    def count(self, *fragments: str, method: str | None = None) -> int:
        return sum(
            n
            for (m, path), n in self.paths.items()
            if (method is None or m == method) and any(f in path for f in fragments)
        )


@dataclass
class World:
    kind: ProviderKind
    sim: Simulator
    time: FakeTime
    recorder: Recorder
    subject: Subject
    clients: list[ProviderClient] = field(default_factory=list)

    @property
    def traits(self) -> Traits:
        return TRAITS[self.kind]

    def client(self) -> ProviderClient:
        client = self.subject.make_client()
        self.clients.append(client)
        return client


@pytest.fixture(params=KINDS, ids=lambda k: k.value)
def kind(request: pytest.FixtureRequest) -> ProviderKind:
    kind: ProviderKind = request.param
    return kind


@pytest.fixture
async def world(kind: ProviderKind, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    fake = FakeTime()
    sim = Simulator.build(seed=11, devices=DEVICES, clock=fake.clock, kinds=[kind])
    dialect = sim.dialects[kind]
    if hasattr(dialect, "monotonic"):  # a dialect whose rate window runs on real time
        dialect.monotonic = fake.monotonic
    cfg = demo_profile(sim).providers[0]
    recorder = Recorder(sim.transport())
    original = registry.client_options

    def options(
        cfg: ProviderConfigBase, transport: httpx.AsyncBaseTransport | None = None
    ) -> ClientOptions:
        built = original(cfg, transport)
        built.sleep, built.monotonic = fake.sleep, fake.monotonic
        return built

    monkeypatch.setattr(registry, "client_options", options)
    groups = MemoryGroups()
    subject = Subject(
        cfg=cfg,
        make_client=lambda: registry.build_client(cfg, transport=recorder, groups=groups),
        device_count=len(sim.fleet.devices[kind]),
        secrets=secret_values(cfg),
        groups=groups,
    )
    world = World(kind, sim, fake, recorder, subject)
    yield world
    for client in world.clients:
        await client.aclose()


# -- the same bodies for every adapter ---------------------------------------------------


@pytest.mark.parametrize("check", list(READ_CHECKS), ids=str)
async def test_contract_reads(world: World, check: str) -> None:
    await READ_CHECKS[check](world.subject, world.client())


async def test_contract_fleet_matches_the_simulator(world: World) -> None:
    client = world.client()
    devices = await collect(client.devices())
    assert len(devices) == DEVICES
    upgrades = await collect(client.upgrades())
    listed = {d.device_id for d in devices}
    strays = {u.device_id for u in upgrades} - listed
    assert not strays, f"upgrades of devices that devices() does not list: {sorted(strays)[:5]}"


async def test_contract_campaign_totals_match_upgrades(world: World) -> None:
    client = world.client()
    campaigns = {c.campaign_id: c for c in await boundary(client.campaigns())}
    per_campaign = Counter(u.campaign_id for u in await collect(client.upgrades()))
    for campaign_id, campaign in campaigns.items():
        assert per_campaign[campaign_id] == campaign.total, campaign_id


async def test_contract_create_then_cancel_or_unsupported(world: World) -> None:
    await check_create_and_cancel(world.subject, world.client())


async def test_contract_unknown_campaign_is_a_provider_error(world: World) -> None:
    client = world.client()
    with pytest.raises(ProviderError) as caught:
        await boundary(client.campaign("no-such-campaign-0000"))
    assert caught.value.provider == world.subject.cfg.name


async def test_contract_bad_spec_is_rejected_with_its_field(world: World) -> None:
    client = world.client()
    good = await campaign_spec(world.subject, client, "bad spec")
    spec = CampaignSpec(**{**good.model_dump(), "devices": []})
    with pytest.raises(ProviderRejected) as caught:
        client.plan_campaign(spec)
    assert caught.value.field == "devices"
    with pytest.raises(ProviderRejected):
        await boundary(client.create_campaign(spec))


# -- faults -------------------------------------------------------------------------------


async def _listing(world: World, client: ProviderClient) -> int:
    return len(await collect(client.devices()))


async def test_contract_a_5xx_on_a_read_is_retried(world: World) -> None:
    client = world.client()
    assert (await boundary(client.health())).ok
    world.sim.faults.script(world.kind, "error", path_contains=world.traits.listing)
    assert await _listing(world, client) == DEVICES
    assert world.sim.faults.injected.get("error") == 1
    assert world.time.sleeps, "the retry did not back off"


async def test_contract_a_reset_connection_on_a_read_is_retried(world: World) -> None:
    client = world.client()
    assert (await boundary(client.health())).ok
    world.sim.faults.script(world.kind, "reset", path_contains=world.traits.listing)
    assert await _listing(world, client) == DEVICES
    assert world.sim.faults.injected.get("reset") == 1


async def test_contract_every_request_failing_is_unavailable(world: World) -> None:
    world.sim.faults.set(world.kind, error=1.0)
    client = world.client()
    with pytest.raises(ProviderUnavailable) as caught:
        await _listing(world, client)
    assert caught.value.provider == world.subject.cfg.name
    assert caught.value.retryable
    health = await boundary(client.health())
    assert not health.ok and health.message


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_contract_an_unparseable_body_is_a_protocol_error(world: World, fault: str) -> None:
    client = world.client()
    assert (await boundary(client.health())).ok
    world.sim.faults.script(world.kind, fault, path_contains=world.traits.listing, times=5)
    with pytest.raises(ProviderProtocolError) as caught:
        await _listing(world, client)
    assert caught.value.provider == world.subject.cfg.name


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_contract_one_unparseable_body_on_a_read_is_retried(world: World, fault: str) -> None:
    client = world.client()
    assert (await boundary(client.health())).ok
    before = world.recorder.count(world.traits.listing, method="GET")
    clean = await _listing(world, client)
    requests = world.recorder.count(world.traits.listing, method="GET") - before
    world.sim.faults.script(world.kind, fault, path_contains=world.traits.listing)
    before = world.recorder.count(world.traits.listing)
    assert await _listing(world, client) == clean == DEVICES
    assert world.sim.faults.injected == {fault: 1}
    assert world.time.sleeps, "the retry did not back off"
    if requests:  # the listing is a GET: exactly one request more than a clean read
        assert world.recorder.count(world.traits.listing) - before == requests + 1


async def test_contract_a_well_formed_body_of_the_wrong_shape_is_not_retried(
    world: World,
) -> None:
    """Valid JSON that does not fit (a deterministic answer) fails at once."""
    client = world.client()
    assert (await boundary(client.health())).ok
    listing, inner = world.traits.listing, world.recorder

    class Wrong(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await inner.handle_async_request(request)
            if listing not in request.url.path:
                return response
            await response.aread()
            return httpx.Response(200, json=["not", "an", "envelope"], request=request)

    wrapped = registry.build_client(world.subject.cfg, transport=Wrong())
    world.clients.append(wrapped)
    before = inner.count(listing)
    with pytest.raises(ProviderProtocolError) as caught:
        await _listing(world, wrapped)
    assert not isinstance(caught.value, ProviderBadBody) and not caught.value.retryable
    assert inner.count(listing) - before == 1
    assert not world.time.sleeps


class CutShortOnce(httpx.AsyncBaseTransport):
    """Answers the first request whose path holds ``path`` with a refusal cut short."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str) -> None:
        self.inner, self.path, self.done = inner, path, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.done or self.path not in request.url.path:
            return response
        self.done = True
        await response.aread()
        return httpx.Response(400, content=b'{"errorCode": "SessionTok', request=request)


async def test_contract_a_refusal_cut_short_on_a_read_is_retried(world: World) -> None:
    """A 4xx whose JSON body is cut short cannot say what it meant (an expired token?):
    a read tries again instead of reporting a rejection."""
    client = world.client()
    assert (await boundary(client.health())).ok
    clean = await _listing(world, client)
    damaged = CutShortOnce(world.recorder, world.traits.listing)
    wrapped = registry.build_client(world.subject.cfg, transport=damaged)
    world.clients.append(wrapped)
    assert await _listing(world, wrapped) == clean == DEVICES
    assert damaged.done and world.time.sleeps


async def test_contract_throttling_is_rate_limited(world: World) -> None:
    client = world.client()
    assert (await boundary(client.health())).ok
    world.sim.faults.set(world.kind, throttle=1.0)
    with pytest.raises(ProviderRateLimited) as caught:
        await _listing(world, client)
    assert caught.value.provider == world.subject.cfg.name
    assert caught.value.retry_after is not None and caught.value.retry_after >= 0


async def test_contract_one_throttled_read_waits_or_surfaces_a_long_wait(world: World) -> None:
    """A short Retry-After is slept (fake) and the read retried; a wait longer than the
    retry policy allows is surfaced as ``ProviderRateLimited`` for the scheduler."""
    client = world.client()
    assert (await boundary(client.health())).ok
    world.sim.faults.script(world.kind, "throttle", path_contains=world.traits.listing)
    try:
        listed = await _listing(world, client)
    except ProviderRateLimited as exc:
        assert exc.retry_after is not None
        assert exc.retry_after > RetryPolicy().max_retry_after
    else:
        assert listed == DEVICES
        assert world.time.sleeps and max(world.time.sleeps) > 0
    assert world.sim.faults.injected.get("throttle") == 1


async def test_contract_token_expiry_is_a_transparent_re_auth(world: World) -> None:
    client = world.client()
    assert (await boundary(client.health())).ok
    logins = world.recorder.count(*world.traits.logins) if world.traits.logins else 0
    world.sim.faults.script(world.kind, "token_expiry", path_contains=world.traits.listing)
    assert await _listing(world, client) == DEVICES
    assert world.sim.faults.injected.get("token_expiry") == 1
    if world.traits.logins:
        again = world.recorder.count(*world.traits.logins)
        assert again > logins, "no new token was fetched after the old one expired"
        assert again - logins <= len(world.traits.logins), "more than one re-login"


@pytest.mark.parametrize("damage", ["reset_after", "malformed", "cut_short"])
async def test_contract_a_create_whose_answer_is_damaged_is_not_resent(
    world: World, damage: str
) -> None:
    """Writes are never retried blindly: a create whose answer was lost after the
    platform handled it (``reset_after``), garbled (``malformed``) or a refusal cut short
    may have been done or refused; it is not sent again (the service reconciles)."""
    client = world.client()
    spec = await campaign_spec(world.subject, client, f"damaged answer: {damage}")
    create = world.traits.create
    planned = [p for p in client.plan_campaign(spec) if p.method == "POST" and create in p.url]
    assert planned
    cut_short = CutShortOnce(world.recorder, create)
    if damage == "cut_short":
        client = registry.build_client(world.subject.cfg, transport=cut_short)
        world.clients.append(client)
    else:
        world.sim.faults.script(world.kind, damage, method="POST", path_contains=create)
    before = world.recorder.count(create, method="POST")
    try:  # OneNET holds a lost answer as unconfirmed instead of failing
        await boundary(client.create_campaign(spec))
    except ProviderError as exc:
        assert exc.provider == world.subject.cfg.name
    assert cut_short.done if damage == "cut_short" else world.sim.faults.injected[damage] == 1
    sent = world.recorder.count(create, method="POST") - before
    assert sent == len(planned)


OPERATIONS: dict[str, Callable[[ProviderClient], object]] = {
    "health": lambda c: c.health(),
    "devices": lambda c: collect(c.devices()),
    "upgrades": lambda c: collect(c.upgrades()),
    "campaigns": lambda c: c.campaigns(),
    "firmware": lambda c: c.firmware(),
    "device_history": lambda c: c.device_history("000000000000000"),
    "campaign": lambda c: c.campaign("no-such-campaign"),
}


@pytest.mark.parametrize(
    "fault", ["error", "throttle", "malformed", "truncated", "reset", "token_expiry"]
)
async def test_contract_only_provider_errors_cross_the_boundary(world: World, fault: str) -> None:
    """Every read under a 40% fault rate either answers or raises a ``ProviderError``."""
    world.sim.faults.set(world.kind, **{fault: 0.4})
    outcomes: Counter[str] = Counter()
    for name, operation in OPERATIONS.items():
        client = world.client()
        try:
            await boundary(operation(client))  # type: ignore[arg-type]
            outcomes["ok"] += 1
        except ProviderError as exc:
            assert exc.provider == world.subject.cfg.name, name
            outcomes[type(exc).__name__] += 1
    assert world.sim.faults.injected.get(fault), f"no {fault} was injected"
    assert sum(outcomes.values()) == len(OPERATIONS)


# -- bounded work: a platform cannot make a refresh hang or eat the memory ----------------


def bounded_client(world: World, **limits: object) -> ProviderClient:
    cfg = world.subject.cfg.model_copy(update=limits)
    client = registry.build_client(cfg, transport=world.recorder, groups=world.subject.groups)
    world.clients.append(client)
    return client


async def test_contract_an_endless_pager_is_stopped_and_named(world: World) -> None:
    client = bounded_client(world, max_pages=20)
    assert (await boundary(client.health())).ok
    world.sim.faults.set(world.kind, endless=1.0)
    with pytest.raises(ProviderLimitExceeded) as caught:
        await fetch_snapshot(client, deadline=600)
    assert caught.value.provider == world.subject.cfg.name
    assert "page" in caught.value.message and "stopped reading" in caught.value.message
    assert world.recorder.count("") < 400, "the pager went on after the bound"


async def test_contract_an_inflating_answer_is_refused_past_the_size_limit(world: World) -> None:
    client = bounded_client(world, max_body_mb=1)
    assert (await boundary(client.health())).ok
    world.sim.faults.script(world.kind, "bomb", path_contains=world.traits.listing, times=9)
    with pytest.raises(ProviderLimitExceeded) as caught:
        await fetch_snapshot(client, deadline=600)
    assert "larger than 1 MiB (after decompression)" in caught.value.message


async def test_contract_a_trickling_answer_counts_against_the_refresh_deadline(
    world: World,
) -> None:
    client = world.client()
    assert (await boundary(client.health())).ok
    world.sim.faults.script(world.kind, "slow_body", path_contains=world.traits.listing, times=9)
    with pytest.raises(ProviderTimeout) as caught:
        await fetch_snapshot(client, deadline=0.3)  # the body would take 30 s
    assert caught.value.message.startswith("refresh exceeded")
    assert caught.value.provider == world.subject.cfg.name


async def test_contract_hostile_text_and_skew_from_the_simulator_reach_the_domain(
    world: World,
) -> None:
    world.sim.faults.set(world.kind, hostile=1, skew=900)
    world.sim.apply_settings()
    snapshot = await fetch_snapshot(world.client(), deadline=600)
    text = repr((snapshot.devices, snapshot.upgrades, snapshot.campaigns))
    assert "\\x1b" in text or "\\x00" in text, "the hostile text did not reach the adapter"
    assert world.sim.fleet.now() - world.time.clock.now() == timedelta(seconds=900)


# -- incremental refresh -------------------------------------------------------------------


def _view(
    snap: ProviderSnapshot,
) -> tuple[Counter[tuple[object, ...]], Counter[tuple[object, ...]]]:
    upgrades = Counter((u.device_id, u.campaign_id, u.state) for u in snap.upgrades)
    campaigns = Counter((c.campaign_id, c.state, c.total) for c in snap.campaigns)
    return upgrades, campaigns


async def test_incremental_refreshes_ask_less_and_show_what_a_full_read_shows(
    world: World,
) -> None:
    """Between sweeps a refresh asks the platform for less than a full read, and shows
    exactly what a full read shows at the same moment (nothing is hidden)."""
    client = world.client()
    first = await fetch_snapshot(client)
    assert isinstance(client, Incremental)
    assert first.health.full_read and first.health.sweep is not None
    for _ in range(4):  # 800 s of upgrades moving on: under one sweep period (900 s)
        world.time.clock.advance(200)
        before = sum(world.recorder.paths.values())
        snap = await fetch_snapshot(client)
        asked = sum(world.recorder.paths.values()) - before
        assert not snap.health.full_read
        before = sum(world.recorder.paths.values())
        full = await fetch_snapshot(world.client())
        full_asked = sum(world.recorder.paths.values()) - before
        assert _view(snap) == _view(full)
        assert asked < full_asked, (asked, full_asked)
    world.time.clock.advance(200)  # a sweep period has passed
    swept = await fetch_snapshot(client)
    assert swept.health.full_read and swept.health.sweep is not None
    assert swept.health.sweep.reason == "every 15 min"
    again = await fetch_snapshot(client, full=True)
    assert again.health.full_read and again.health.sweep is not None
    assert again.health.sweep.reason == "asked"
