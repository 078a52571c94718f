"""The skeleton the four adapters share: send → map errors → decode envelope → retry reads."""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import httpx

from fota_tui.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderProtocolError,
    ProviderTimeout,
    ProviderUnsupported,
)
from fota_tui.models import AuthState, Capabilities, ProviderHealth, ProviderKind, utcnow
from fota_tui.providers.base import rate_budget
from fota_tui.providers.http import (
    ClientOptions,
    RateLimiter,
    map_transport_error,
    read_bounded,
    with_retries,
)

log = logging.getLogger(__name__)


class HttpAdapter(ABC):
    """Base for adapters. Subclasses implement ``_decode`` (their envelope) and ``_probe``."""

    kind: ClassVar[ProviderKind]
    capabilities: ClassVar[Capabilities]

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.name = options.name
        self._client: httpx.AsyncClient | None = None
        self.limiter = (
            RateLimiter(
                options.rate_limit_per_minute,
                60.0,
                monotonic=options.monotonic,
                sleep=options.sleep,
            )
            if options.rate_limit_per_minute
            else None
        )
        self.auth_state = AuthState.UNKNOWN
        self.notes: list[str] = []  # what this run learnt about the platform, once each

    def note(self, text: str) -> None:
        """Record a lasting fact about the platform (shown in its pane and logged once)."""
        if text not in self.notes:
            self.notes.append(text)
            log.warning("%s: %s", self.name, text)

    # -- plumbing ------------------------------------------------------------
    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def _build_client(self) -> httpx.AsyncClient:
        return self.options.build_client()

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request whose whole answer (however slowly it trickles) must arrive within
        ``request_deadline`` and fit ``max_body_bytes`` once decompressed."""
        if self.limiter is not None:
            await self.limiter.acquire()
        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        deadline = self.options.request_deadline
        try:
            async with asyncio.timeout(deadline):
                request = self.client.build_request(method, url, **kwargs)
                response = await self.client.send(request, auth=auth, stream=True)
                try:
                    await read_bounded(self.name, response, self.options.max_body_bytes)
                finally:
                    await response.aclose()
                return response
        except TimeoutError:
            raise ProviderTimeout(
                self.name, f"{method} {url}: no complete answer within {deadline:.0f} s"
            ) from None
        except httpx.HTTPError as exc:
            raise map_transport_error(self.name, exc) from None
        except UnicodeEncodeError:  # an id or token from the platform that is not valid text
            raise ProviderProtocolError(
                self.name,
                "the platform sent an identifier that cannot be sent back (not valid text)",
            ) from None

    @abstractmethod
    def _decode(self, response: httpx.Response) -> Any:
        """The payload of a successful answer, or the mapped ``ProviderError``."""

    async def call(self, method: str, url: str, *, read: bool = True, **kwargs: Any) -> Any:
        """One API call. Reads are retried under the policy (transient errors and bodies
        that cannot be decoded, ``ProviderBadBody``); writes never are, whatever failed."""

        async def once() -> Any:
            return self._decode(await self._send(method, url, **kwargs))

        if not read:
            return await once()
        return await with_retries(
            self.name, once, policy=self.options.retry, sleep=self.options.sleep
        )

    # -- shared behaviour ------------------------------------------------------
    @abstractmethod
    async def _probe(self) -> None:
        """One cheap authenticated call."""

    async def health(self) -> ProviderHealth:
        started = time.monotonic()
        ok, message = True, None
        try:
            await self._probe()
            self.auth_state = AuthState.OK
        except ProviderError as exc:
            ok, message = False, f"{exc.title}: {exc.message}"
            if isinstance(exc, ProviderAuthError):
                self.auth_state = AuthState.FAILED
        remaining, total = rate_budget(self.limiter)
        return ProviderHealth(
            provider=self.name,
            kind=self.kind,
            ok=ok,
            checked_at=utcnow(),
            latency_ms=round((time.monotonic() - started) * 1000, 1),
            auth=self.auth_state,
            message=message,
            rate_limit_remaining=remaining,
            rate_limit_total=total,
            warnings=tuple(self.notes),
        )

    def unsupported(self, what: str) -> ProviderUnsupported:
        return ProviderUnsupported(self.name, f"{self.kind.label} has no {what}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
