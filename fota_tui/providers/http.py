"""Shared plumbing for every adapter: client construction, error mapping, retries,
rate limiting and JSON parsing. Errors are mapped here, in one place."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from fota_tui.errors import (
    ProviderAuthError,
    ProviderBadBody,
    ProviderError,
    ProviderLimitExceeded,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from fota_tui.models import UpgradeState, utcnow
from fota_tui.providers.pools import PooledTransport

log = logging.getLogger("fota_tui.http")

Sleep = Callable[[float], Awaitable[None]]
REDACTED = "***"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "vz-m2m-token", "token", "api-key", "app_key", "access_token", "cookie"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries for idempotent reads only: transport errors, 408/429/5xx, Retry-After, and
    bodies that cannot be decoded (``ProviderBadBody``: malformed or truncated)."""

    attempts: int = 3  # total tries, including the first
    backoff: float = 0.5  # first delay; doubles each time
    max_delay: float = 10.0
    max_retry_after: float = 30.0  # longer waits are surfaced instead of slept

    def delay(self, attempt: int, error: ProviderError) -> float | None:
        """Seconds to wait before try ``attempt + 1``, or None to give up."""
        if attempt >= self.attempts or not error.retryable:
            return None
        if isinstance(error, ProviderRateLimited) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        return min(self.backoff * 2 ** (attempt - 1), self.max_delay)


NO_RETRY = RetryPolicy(attempts=1)


class RateLimiter:
    """A sliding-window limiter: at most ``calls`` per ``period`` seconds."""

    def __init__(
        self,
        calls: int,
        period: float = 60.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.calls = calls
        self.period = period
        self._monotonic = monotonic
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _trim(self, now: float) -> None:
        while self._stamps and now - self._stamps[0] >= self.period:
            self._stamps.popleft()

    @property
    def remaining(self) -> int:
        self._trim(self._monotonic())
        return max(self.calls - len(self._stamps), 0)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._monotonic()
                self._trim(now)
                if len(self._stamps) < self.calls:
                    self._stamps.append(now)
                    return
                await self._sleep(self.period - (now - self._stamps[0]) + 0.001)


@dataclass
class ClientOptions:
    """Everything an adapter needs that is not a platform credential."""

    name: str
    base_url: str
    timeout: float = 15.0
    verify_tls: bool = True
    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    transport: httpx.AsyncBaseTransport | None = None
    status_map: Mapping[str, str] = field(default_factory=dict)
    rate_limit_per_minute: int | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic
    max_connections: int = 20  # at least an adapter's concurrency, or requests queue
    max_pages: int = 10_000  # per listing; more is a pager that never ends
    max_body_bytes: int = 32 * 1024 * 1024  # per answer, after decompression
    request_deadline: float = 120.0  # a whole answer, however slowly it trickles
    full_sweep: float = 900.0  # seconds between full reads, where refreshes are incremental
    device_list_every: float = 300.0  # seconds a device list is reused between refreshes

    def build_client(
        self, auth: httpx.Auth | None = None, *, concurrency: int = 0, **headers: str
    ) -> httpx.AsyncClient:
        """An httpx client; its pool holds at least ``concurrency`` connections (a smaller
        pool would queue the adapter's concurrent requests inside httpcore)."""
        verify: Any = self.ca_bundle if (self.verify_tls and self.ca_bundle) else self.verify_tls
        cert = (
            (self.client_cert, self.client_key)
            if self.client_cert and self.client_key
            else self.client_cert
        )
        transport = self.transport
        if transport is None:  # the network: several small pools (see pools.py)
            connections = max(self.max_connections, concurrency)
            transport = PooledTransport(connections, verify=verify, cert=cert or None)
        return httpx.AsyncClient(
            base_url=self.base_url.rstrip("/"),
            timeout=httpx.Timeout(self.timeout),
            auth=auth,
            headers={"accept": "application/json", **headers},
            event_hooks={"request": [_log_request], "response": [_log_response]},
            transport=transport,
        )

    def map_status(self, raw: Any, default: UpgradeState) -> UpgradeState:
        """Apply the profile's ``status_map`` override before the built-in table."""
        override = self.status_map.get(str(raw).strip())
        return UpgradeState(override) if override else default


class PageGuard:
    """Bounds one listing: at most ``cap`` pages, and no page may repeat an earlier one
    (a pager whose cursors or page numbers cycle, or that serves page 1 for ever)."""

    def __init__(self, provider: str, what: str, cap: int) -> None:
        self.provider, self.what, self.cap = provider, what, cap
        self.pages = 0
        self._seen: set[Hashable] = set()

    def announced(self, pages: int) -> int:
        """Check a page count the platform announced up front; returns it."""
        if pages > self.cap:
            raise self._limit(f"the platform announced {pages:,} pages, more than {self.cap:,}")
        return pages

    def page(self, *keys: Hashable) -> None:
        """Count one page; each key identifies it one way (its ids, its cursor)."""
        self.pages += 1
        if self.pages > self.cap:
            raise self._limit(f"more than {self.cap:,} pages")
        for n, key in enumerate(keys):
            if key is None or key == ():
                continue
            if (n, key) in self._seen:
                raise self._limit(f"page {self.pages} repeats an earlier page")
            self._seen.add((n, key))

    def _limit(self, why: str) -> ProviderLimitExceeded:
        return ProviderLimitExceeded(self.provider, f"{self.what}: {why}; stopped reading")


async def read_bounded(provider: str, response: httpx.Response, limit: int) -> None:
    """Read a streamed answer's body (decompressed) up to ``limit`` bytes."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ProviderLimitExceeded(
                provider,
                f"{response.request.method} {response.request.url.path}: the answer is larger"
                f" than {limit // (1024 * 1024)} MiB (after decompression); stopped reading",
            )
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what Response.aread() itself sets


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


async def _log_request(request: httpx.Request) -> None:
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "→ %s %s %s",
            request.method,
            request.url.copy_with(query=None),
            redact_headers(request.headers),
        )


async def _log_response(response: httpx.Response) -> None:
    if log.isEnabledFor(logging.DEBUG):
        log.debug("← %s %s", response.status_code, response.request.url.copy_with(query=None))


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or HTTP date); None when absent/invalid."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def map_transport_error(provider: str, exc: httpx.HTTPError) -> ProviderError:
    """httpx exceptions → the error taxonomy (nothing httpx crosses the boundary)."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(provider, f"no answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        return ProviderUnavailable(provider, f"cannot connect: {exc}")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return ProviderUnavailable(provider, f"connection dropped: {exc}")
    if isinstance(exc, httpx.TransportError):
        return ProviderUnavailable(provider, f"transport error: {exc}")
    return ProviderUnavailable(provider, f"HTTP error: {exc}")


def map_http_status(
    provider: str,
    response: httpx.Response,
    *,
    code: str | None = None,
    message: str | None = None,
) -> ProviderError | None:
    """A generic mapping of HTTP status codes; adapters refine it with their envelopes."""
    status = response.status_code
    if status < 400:
        return None
    text = message or response.reason_phrase or f"HTTP {status}"
    if status == 429:
        return ProviderRateLimited(
            provider, text, retry_after=retry_after_seconds(response.headers.get("retry-after"))
        )
    if status == 401:
        return ProviderAuthError(provider, text)
    if status == 404:
        return ProviderNotFound(provider, text, code=code, status=status)
    if status == 408 or status >= 500:
        return ProviderUnavailable(provider, f"HTTP {status}: {text}")
    return damaged_error(provider, response) or ProviderRejected(
        provider, text, code=code, status=status
    )


def damaged_error(provider: str, response: httpx.Response) -> ProviderBadBody | None:
    """A refusal whose JSON body was cut short or garbled: what the platform meant (an
    expired token? a bad parameter?) cannot be read, so reads retry it as damage."""
    body = response.content.strip()
    if not body or not body.startswith((b"{", b"[")) or loads_or_none(body) is not None:
        return None
    snippet = body[:60].decode("utf-8", "replace")
    return ProviderBadBody(
        provider, f"HTTP {response.status_code}: error answer cut short ({snippet!r}…)"
    )


# What json.loads raises for hostile bodies: bad syntax or encoding, and nesting too deep.
JSON_ERRORS = (ValueError, UnicodeDecodeError, RecursionError)


def loads_or_none(content: bytes | str) -> Any:
    """Decoded JSON, or None for anything that is not (error paths, best effort)."""
    try:
        return json.loads(content)
    except JSON_ERRORS:
        return None


def parse_json(provider: str, response: httpx.Response) -> Any:
    """The body as JSON, or ``ProviderBadBody`` (a ``ProviderProtocolError`` that reads
    retry: a malformed or truncated body is usually damage on the way) naming what came
    back."""
    try:
        return json.loads(response.content)
    except RecursionError:  # nested too deep: the same every time, not worth a retry
        raise ProviderProtocolError(
            provider, f"HTTP {response.status_code}: JSON body nested too deeply"
        ) from None
    except JSON_ERRORS:
        snippet = response.content[:60].decode("utf-8", "replace")
        raise ProviderBadBody(
            provider, f"HTTP {response.status_code}: body is not valid JSON ({snippet!r}…)"
        ) from None


def header_time(response: httpx.Response) -> datetime | None:
    """The server's ``Date`` in UTC (the last one, if a proxy added another)."""
    values = response.headers.get_list("date")
    if not values:
        return None
    try:
        when = parsedate_to_datetime(values[-1])
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):  # garbage, or years out of range
        return None


SKEW_LIMIT = timedelta(days=3650)  # a Date further from ours is garbage, not clock skew


class ServerClock:
    """The platform's clock as last seen in a ``Date`` header; the local clock until one
    is seen. Times a platform reports are compared with this, not with a skewed laptop."""

    def __init__(self) -> None:
        self.offset = timedelta(0)  # server clock - local clock
        self.seen = False

    def observe(self, response: httpx.Response) -> None:
        server = header_time(response)
        if server is not None and abs(server - utcnow()) < SKEW_LIMIT:  # else: garbage
            self.offset = server - utcnow()
            self.seen = True

    def now(self) -> datetime:
        return utcnow() + self.offset

    def seen_now(self) -> datetime | None:
        """The platform's time now, once an answer has carried it."""
        return self.now() if self.seen else None


def path_segment(provider: str, value: str) -> str:
    """``value`` quoted as one URL path segment; ``ProviderProtocolError`` if it cannot be
    (an id or cursor from the platform with a lone surrogate is not valid text)."""
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise ProviderProtocolError(
            provider, f"the id {value!r} cannot be sent back (not valid text)"
        ) from None


def expect(provider: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """Check a decoded JSON value's type, or raise ``ProviderProtocolError``."""
    if not isinstance(value, kind):
        raise ProviderProtocolError(
            provider, f"{what}: expected {_type_names(kind)}, got {type(value).__name__}"
        )
    return value


def _type_names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


async def with_retries(
    provider: str,
    call: Callable[[], Awaitable[Any]],
    *,
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
) -> Any:
    """Run ``call`` (an idempotent read) under ``policy``; errors are already mapped."""
    attempt = 1
    while True:
        try:
            return await call()
        except ProviderError as error:
            delay = policy.delay(attempt, error)
            if delay is None:
                raise
            log.info("%s: retry %d after %.2fs (%s)", provider, attempt, delay, error.title)
            await sleep(delay)
            attempt += 1
