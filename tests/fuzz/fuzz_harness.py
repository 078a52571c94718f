"""The machinery behind the wire fuzz tests (one ``Platform`` per adapter).

- ``record``: real traffic from the simulator (every read the adapter makes), replayed
  by ``FuzzTransport`` so each example starts from genuine answers.
- ``FuzzTransport`` (an ``httpx.MockTransport``): answers the target route with fuzzed bodies (``rounds`` times), every
  later data request with a quiet, terminal answer, everything else from the recording;
  more than ``budget`` requests raise ``RunawayPaging``.
- ``allowed``: the oracle. A result must be valid domain records; the only error allowed
  is ``ProviderProtocolError`` (plus what the platform's error envelope maps to). Anything
  else fails, unless it matches a ``KnownBug`` (each has a strict-xfail reproducer, so a
  fix shows up as XPASS and the entry gets deleted).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import re
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis.errors import UnsatisfiedAssumption
from pydantic import BaseModel
from strategies import payloads

from fota_tui.errors import (
    ProviderAuthError,
    ProviderBadBody,
    ProviderError,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRateLimited,
)
from fota_tui.models import (
    Campaign,
    CampaignDetail,
    Device,
    DeviceUpgrade,
    Firmware,
    ProviderHealth,
    ProviderKind,
)
from fota_tui.providers.http import NO_RETRY, ClientOptions
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.server import Simulator

PROVIDER = "fz"
PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "fota_tui"
DOMAIN = (Device, DeviceUpgrade, Campaign, CampaignDetail, Firmware, ProviderHealth)


# -- known bugs ----------------------------------------------------------------------------
def fota_frame(exc: BaseException) -> str:
    """``path.py:function`` of the innermost fota_tui function the exception passed through
    (comprehension frames count as their function: Python 3.12 inlines them)."""
    where = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(PACKAGE_ROOT) and not frame.name.startswith("<"):
            where = f"{path.relative_to(PACKAGE_ROOT.parent).as_posix()}:{frame.name}"
    return where


@dataclass(frozen=True)
class KnownBug:
    """An adapter bug found by fuzzing, until the lead fixes it.

    ``where`` is the innermost fota_tui frame (``fota_frame``) and ``error`` the exception
    type; ``reproduce`` runs the exact failing input through the same oracle.
    """

    id: str
    error: type[BaseException]
    where: str
    summary: str
    reproduce: Callable[[], Any]

    def matches(self, exc: BaseException) -> bool:
        if isinstance(exc, RunawayPaging):  # raised by the test transport: match the route
            return self.error is RunawayPaging and self.where == f"paging:{exc.route}"
        return isinstance(exc, self.error) and fota_frame(exc) == self.where


class RunawayPaging(Exception):
    """The adapter kept requesting pages after the platform answered with empty ones."""

    def __init__(self, message: str, route: str) -> None:
        super().__init__(message)
        self.route = route


class UnexpectedRequest(AssertionError):
    pass


# Outcome tallies; FUZZ_STATS=1 prints them at exit (to see what the fuzzing reached).
STATS: Counter[str] = Counter()
if os.environ.get("FUZZ_STATS"):
    atexit.register(lambda: print("\nfuzz outcomes:", dict(sorted(STATS.items()))))


def known(exc: BaseException, bugs: Iterable[KnownBug]) -> KnownBug | None:
    return next((bug for bug in bugs if bug.matches(exc)), None)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__} at {fota_frame(exc)}: {str(exc)[:200]}"


def allowed(
    call: Callable[[], Any],
    bugs: Sequence[KnownBug] = (),
    *,
    also: tuple[type[ProviderError], ...] = (),
) -> tuple[str, Any]:
    """Run ``call``: ("ok", result), ("protocol", error) or ("known", bug id).

    Anything else (including a ``ProviderError`` that is neither a protocol error nor in
    ``also``) fails with the exception chained."""
    try:
        result = call()
    except ProviderProtocolError as exc:
        assert exc.provider == PROVIDER and exc.message, "protocol errors name the provider"
        STATS["protocol"] += 1
        return "protocol", exc
    except also as exc:
        STATS[f"error:{type(exc).__name__}"] += 1
        return "error", exc
    except UnsatisfiedAssumption:
        raise  # hypothesis control flow (a guard rejected the input)
    except Exception as exc:
        bug = known(exc, bugs)
        if bug is not None:
            STATS[f"known:{bug.id}"] += 1
            return "known", bug.id
        raise AssertionError(f"not an allowed outcome: {describe(exc)}") from exc
    STATS["ok"] += 1
    return "ok", result


class DriftedBug(Exception):
    """A reproducer still fails, but no longer where its ``KnownBug`` says."""


def assert_reproducer_is_clean(bug: KnownBug) -> None:
    """The body of every strict-xfail regression test: the exact input must now pass.

    While the bug is there this raises ``bug.error`` (an expected failure); if the code
    moved, it raises ``DriftedBug`` instead, a real failure: fix the entry's ``where`` so
    the fuzz tests keep recognising the bug."""
    try:
        bug.reproduce()
    except ProviderProtocolError:
        return
    except bug.error as exc:
        if bug.error is not AssertionError and not bug.matches(exc):
            raise DriftedBug(f"{bug.id}: {describe(exc)}; expected {bug.where}") from exc
        raise


def known_bug_tests(
    bugs: Sequence[KnownBug], ids: Callable[[KnownBug], str] = lambda b: b.id
) -> Callable[[KnownBug], None] | None:
    """A strict-xfail reproducer test per open bug, or None (no test) while there is none:
    an empty parameter list would give a test that can never run."""
    if not bugs:
        return None

    @pytest.mark.parametrize(
        "bug",
        [
            pytest.param(
                b,
                marks=pytest.mark.xfail(strict=True, raises=b.error, reason=b.summary),
                id=ids(b),
            )
            for b in bugs
        ],
    )
    def known_bug_reproducer(bug: KnownBug) -> None:
        assert_reproducer_is_clean(bug)

    return known_bug_reproducer


# -- domain checks ------------------------------------------------------------------------
def _datetimes(model: BaseModel) -> Iterable[Any]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from _datetimes(value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, BaseModel):
                    yield from _datetimes(item)
        elif hasattr(value, "utcoffset"):
            yield value


def check_records(records: Iterable[Any], kind: ProviderKind) -> int:
    """Every record is a valid domain model of this provider with aware UTC times."""
    count = 0
    for record in records:
        assert isinstance(record, DOMAIN), f"not a domain record: {type(record).__name__}"
        type(record).model_validate(record.model_dump())  # model_copy skips validation
        for when in _datetimes(record):
            assert when.utcoffset() == timedelta(0), f"{when!r} is not UTC"
        head = record.campaign if isinstance(record, CampaignDetail) else record
        assert head.provider == PROVIDER and head.kind == kind
        count += 1
    return count


# -- platforms -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    name: str
    method: str
    pattern: str  # regex on the path below the platform's base URL

    def match(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.pattern, path) is not None


@dataclass
class Platform:
    """How to drive one adapter: its client, routes, quiet answers and operations."""

    kind: ProviderKind
    make: Callable[..., Any]  # (options, credentials, **extra) -> client
    routes: Sequence[Route]
    quiet: dict[str, bytes]  # terminal answers (empty pages) per data route
    status_map: dict[str, str] = field(default_factory=dict)
    extra_ops: dict[str, Callable[[Any, Ids], Awaitable[list[Any]]]] = field(default_factory=dict)
    client_extra: Callable[[Ids], dict[str, Any]] | None = None  # for ops needing a variant
    prepare_sim: Callable[[Any], None] | None = None  # adjusts the dialect before recording

    def route_of(self, method: str, path: str) -> str | None:
        return next((r.name for r in self.routes if r.match(method, path)), None)


@dataclass
class Ids:
    campaign_id: str | None = None
    device_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    query: str
    route: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    sent: bytes = b""  # the request's body (AOVX pages are in it)


@dataclass
class Traffic:
    exchanges: list[Exchange]
    ids: Ids
    credentials: dict[str, str]
    base_url: str

    def by_route(self, route: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.route == route]

    def lookup(
        self, method: str, path: str, query: str, route: str, sent: bytes = b""
    ) -> Exchange | None:
        for test in (
            lambda e: (e.method, e.path, e.query, e.sent) == (method, path, query, sent),
            lambda e: (e.method, e.path, e.query) == (method, path, query),
            lambda e: (e.method, e.path) == (method, path),
            lambda e: e.route == route,
        ):
            found = next((e for e in self.exchanges if test(e)), None)
            if found is not None:
                return found
        return None


class FakeTime:
    """Monotonic time that only sleeps move: rate limiters wait without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


def options(
    platform: Platform, base_url: str, transport: httpx.AsyncBaseTransport | None
) -> ClientOptions:
    time = FakeTime()
    return ClientOptions(
        name=PROVIDER,
        base_url=base_url,
        transport=transport,
        status_map=platform.status_map,
        sleep=time.sleep,
        monotonic=time.monotonic,
        retry=NO_RETRY,
    )


def _rel(platform: Platform, url: httpx.URL) -> str:
    """The still percent-encoded path below the platform's base URL."""
    prefix = f"/{platform.kind.value}"
    path = url.raw_path.split(b"?", 1)[0].decode("ascii")
    return path[len(prefix) :] if path.startswith(prefix) else path


_HOP_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, platform: Platform, inner: httpx.AsyncBaseTransport) -> None:
        self.platform, self.inner = platform, inner
        self.log: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        path = _rel(self.platform, request.url)
        route = self.platform.route_of(request.method, path)
        if route is None:
            raise UnexpectedRequest(f"no route for {request.method} {path}")
        headers = tuple((k, v) for k, v in response.headers.items() if k not in _HOP_HEADERS)
        self.log.append(
            Exchange(
                request.method,
                path,
                request.url.query.decode(),
                route,
                response.status_code,
                headers,
                body,
                request.content,
            )
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )


_TRAFFIC: dict[ProviderKind, Traffic] = {}


def record(platform: Platform) -> Traffic:
    """Every read of the adapter against a 30-device simulator (cached per platform)."""
    if platform.kind not in _TRAFFIC:
        _TRAFFIC[platform.kind] = asyncio.run(_record(platform))
    return _TRAFFIC[platform.kind]


async def _record(platform: Platform) -> Traffic:
    clock = ManualClock()
    sim = Simulator.build(kinds=[platform.kind], devices=30, clock=clock)
    dialect: Any = sim.dialects[platform.kind]
    if platform.prepare_sim is not None:
        platform.prepare_sim(dialect)
    credentials = dict(dialect.credentials)
    base_url = sim.base_urls()[platform.kind]
    recorder = Recorder(platform, sim.transport())
    client = platform.make(options(platform, base_url, recorder), credentials)
    ids = Ids()
    try:
        await client.health()
        devices = [d async for d in client.devices()]
        upgrades = [u async for u in client.upgrades()]
        campaigns = await client.campaigns()
        await client.firmware()
        ids.campaign_id = campaigns[0].campaign_id if campaigns else None
        if ids.campaign_id:
            await client.campaign(ids.campaign_id)
        # A device with some history, so its answers are worth mutating.
        candidates = list(dict.fromkeys(u.device_id for u in upgrades)) or [devices[0].device_id]
        for device_id in candidates[:10]:
            ids.device_id = device_id
            if await client.device_history(device_id):
                break
        traffic = Traffic(recorder.log, ids, credentials, base_url)
        for op in platform.extra_ops.values():
            extra = platform.client_extra(ids) if platform.client_extra else {}
            variant = platform.make(options(platform, base_url, recorder), credentials, **extra)
            try:
                await op(variant, ids)
            finally:
                await variant.aclose()
    finally:
        await client.aclose()
    return traffic


# -- the fuzzing transport -----------------------------------------------------------------
Fuzz = Callable[[Exchange | None], tuple[int, dict[str, str], bytes]]


class FuzzTransport(httpx.MockTransport):
    """An ``httpx.MockTransport`` whose handler serves fuzzed, quiet or recorded answers."""

    def __init__(
        self,
        platform: Platform,
        traffic: Traffic,
        target: str,
        fuzz: Fuzz,
        rounds: int = 1,
        budget: int = 200,
        quiet: bool = True,
    ) -> None:
        self.platform, self.traffic, self.target = platform, traffic, target
        self.fuzz, self.rounds, self.budget, self.quiet = fuzz, rounds, budget, quiet
        self.served: list[bytes] = []
        self.requests = 0
        super().__init__(self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        path = _rel(self.platform, request.url)
        route = self.platform.route_of(request.method, path)
        if route is None:
            raise UnexpectedRequest(f"no route for {request.method} {path}")
        if self.requests > self.budget:
            raise RunawayPaging(
                f"more than {self.budget} requests; the last was {request.method} {path}"
                " (every page after the fuzzed one was empty)",
                route,
            )
        recorded = self.traffic.lookup(
            request.method, path, request.url.query.decode(), route, request.content
        )
        if route == self.target and len(self.served) < self.rounds:
            status, headers, body = self.fuzz(recorded)
            self.served.append(body)
            return httpx.Response(status, headers=headers, content=body, request=request)
        if self.quiet and self.served and route in self.platform.quiet:
            return httpx.Response(
                200,
                headers={"content-type": "application/json"},
                content=self.platform.quiet[route],
                request=request,
            )
        if recorded is None:
            raise UnexpectedRequest(f"nothing recorded for {request.method} {path}")
        return httpx.Response(
            recorded.status, headers=list(recorded.headers), content=recorded.body, request=request
        )


BASE_OPS: dict[str, Callable[[Any, Ids], Awaitable[list[Any]]]] = {}


def op(name: str) -> Callable[[Callable[[Any, Ids], Awaitable[list[Any]]]], Any]:
    def register(fn: Callable[[Any, Ids], Awaitable[list[Any]]]) -> Any:
        BASE_OPS[name] = fn
        return fn

    return register


@op("health")
async def _health(client: Any, ids: Ids) -> list[Any]:
    return [await client.health()]  # never raises, whatever comes back


@op("devices")
async def _devices(client: Any, ids: Ids) -> list[Any]:
    return [d async for d in client.devices()]


@op("upgrades")
async def _upgrades(client: Any, ids: Ids) -> list[Any]:
    return [u async for u in client.upgrades()]


@op("campaigns")
async def _campaigns(client: Any, ids: Ids) -> list[Any]:
    return list(await client.campaigns())


@op("firmware")
async def _firmware(client: Any, ids: Ids) -> list[Any]:
    return list(await client.firmware())


@op("campaign")
async def _campaign(client: Any, ids: Ids) -> list[Any]:
    assert ids.campaign_id
    return [await client.campaign(ids.campaign_id)]


@op("history")
async def _history(client: Any, ids: Ids) -> list[Any]:
    assert ids.device_id
    return list(await client.device_history(ids.device_id))


async def run_op(
    platform: Platform, traffic: Traffic, transport: FuzzTransport, name: str
) -> list[Any]:
    extra = {}
    if name in platform.extra_ops and platform.client_extra is not None:
        extra = platform.client_extra(traffic.ids)
    client = platform.make(
        options(platform, traffic.base_url, transport), traffic.credentials, **extra
    )
    try:
        fn = platform.extra_ops.get(name) or BASE_OPS[name]
        return await fn(client, traffic.ids)
    finally:
        await client.aclose()


def serve(platform: Platform, target: str, op_name: str, body: bytes) -> list[Any]:
    """``op_name`` with ``target`` answering ``body`` (HTTP 200): a bug's exact input."""
    traffic = record(platform)
    transport = FuzzTransport(platform, traffic, target, lambda _: (200, {}, body))
    return asyncio.run(run_op(platform, traffic, transport, op_name))


def response(status: int, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response as the adapter's ``_decode`` gets it (with its request attached)."""
    return httpx.Response(
        status,
        headers=headers or {},
        content=body,
        request=httpx.Request("GET", "https://platform.example/x"),
    )


def field_names(*modules: Any) -> list[str]:
    """Every JSON key the wire models of ``modules`` know (names, aliases, alias choices)."""
    names: set[str] = set()
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
                for name, info in value.model_fields.items():
                    names.add(info.alias or name)
                    choices = getattr(info.validation_alias, "choices", None) or []
                    names.update(c for c in choices if isinstance(c, str))
                    if isinstance(info.validation_alias, str):
                        names.add(info.validation_alias)
    return sorted(names)


# -- the four kinds of fuzz test, shared by every platform --------------------------------------
@dataclass(frozen=True)
class Shape:
    """One wire model (or list of them) and the normalizers that consume it."""

    name: str
    parse: Callable[[Any], Any]  # raises ProviderProtocolError on bad JSON
    normalize: Callable[[Any], Iterable[Any]]  # domain records
    route: str | None = None  # where the real sample comes from
    sample: Callable[[Any], Any] = lambda payload: payload  # payload → the model's part
    base: Any = None  # a hand-made sample when the simulator has none


def shape_base(shape: Shape, traffic: Traffic, unwrap: Callable[[bytes], Any]) -> Any:
    """A real sample for ``shape`` from the recording (else its hand-made ``base``)."""
    if shape.route is not None:
        for exchange in traffic.by_route(shape.route):
            if exchange.status == 200:
                found = shape.sample(unwrap(exchange.body))
                if found is not None:
                    return found
    return shape.base


_PAYLOADS: dict[tuple[ProviderKind, str], Any] = {}


def shape_payloads(
    platform: Platform, shape: Shape, unwrap: Callable[[bytes], Any], keys: Sequence[str]
) -> Any:
    """The (cached) strategy of payloads for one shape: mostly mutations of real samples."""
    key = (platform.kind, shape.name)
    if key not in _PAYLOADS:
        _PAYLOADS[key] = payloads(shape_base(shape, record(platform), unwrap), keys)
    return _PAYLOADS[key]


def fuzz_shape(shape: Shape, payload: Any, kind: ProviderKind, bugs: Sequence[KnownBug]) -> str:
    """Parse ``payload``; what parses must normalize into valid domain records."""
    outcome, parsed = allowed(lambda: shape.parse(payload), bugs)
    if outcome != "ok":
        return outcome
    outcome, records = allowed(lambda: list(shape.normalize(parsed)), bugs)
    if outcome == "ok":
        check_records(records, kind)
    return outcome


def fuzz_pager(
    platform: Platform,
    target: str,
    op_name: str,
    draw_body: Callable[[Exchange | None], bytes],
    rounds: int,
    bugs: Sequence[KnownBug],
    *,
    error_envelope: Callable[[bytes], bool] = lambda body: False,
) -> str:
    """Run one adapter operation with ``target`` answering fuzzed 200 bodies."""
    traffic = record(platform)
    transport = FuzzTransport(
        platform,
        traffic,
        target,
        lambda recorded: (200, {"content-type": "application/json"}, draw_body(recorded)),
        rounds,
    )
    outcome, value = allowed(
        lambda: asyncio.run(run_op(platform, traffic, transport, op_name)),
        bugs,
        also=(ProviderError,),
    )
    assert transport.served, f"{op_name} never requested {target}: {outcome} {value!r}"
    if outcome == "error" and op_name == "campaign" and isinstance(value, ProviderNotFound):
        return outcome  # the fuzzed answer no longer lists the campaign
    if outcome == "error":  # allowed only where the platform's error envelope says so
        assert any(error_envelope(body) for body in transport.served), (
            f"{describe(value)} for a 200 answer that is not an error envelope"
        )
    if outcome == "ok":
        check_records(value, platform.kind)
    if op_name == "health":
        assert outcome in ("ok", "known"), "health() must never raise"
    return outcome


def fuzz_decode(
    client: Any, status: int, body: bytes, headers: dict[str, str], bugs: Sequence[KnownBug]
) -> tuple[str, Any]:
    """``_decode`` of one crafted answer; every outcome is returned for the oracle."""
    return allowed(
        lambda: client._decode(response(status, body, headers)), bugs, also=(ProviderError,)
    )


def check_error_status(status: int, outcome: str, value: Any, body: bytes = b"") -> None:
    """The taxonomy for HTTP error statuses, the same on every platform. A refusal whose
    body looks like JSON but does not decode is a damaged answer (``ProviderBadBody``,
    which reads retry), not a refusal."""
    if status < 400 or outcome == "known":
        return
    if isinstance(value, ProviderBadBody):
        stripped = body.strip()
        assert stripped.startswith((b"{", b"[")) and not json_or_none(stripped)[0], (
            f"HTTP {status}: {describe(value)} for a body that decodes"
        )
        return
    assert outcome == "error", f"HTTP {status} gave {outcome}: {value!r}"[:300]
    if status == 429:
        assert isinstance(value, ProviderRateLimited), describe(value)
    if status == 401:
        assert isinstance(value, ProviderAuthError | ProviderRateLimited), describe(value)


PLAIN_STATUSES = [200, 201, 204, 299, 400, 401, 403, 404, 408, 409, 418, 429, 500, 502, 503, 599]
"""HTTP statuses for platforms without an error envelope (errors come from the status)."""


def check_plain_decode(body: bytes, outcome: str, value: Any) -> None:
    """The 2xx oracle of a platform without an error envelope: an empty body is None, any
    JSON comes back as it is, anything else is a protocol error."""
    parsed, expected = json_or_none(body)
    if not body.strip():
        assert outcome == "ok" and value is None
    elif not parsed:
        assert outcome == "protocol", f"non-JSON 200 body gave {outcome}"
    else:
        assert outcome == "ok" and same_json(value, expected)


def json_or_none(body: bytes) -> tuple[bool, Any]:
    """(parsed?, value) the way the adapters' JSON parsing should see ``body``."""
    try:
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None


def same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, allow_nan=True) == json.dumps(
        b, sort_keys=True, allow_nan=True
    )
