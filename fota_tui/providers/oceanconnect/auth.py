"""OceanConnect token handling as an ``httpx.Auth`` flow.

Only the newest access token of an app is valid, so token requests are single-flight
(one ``asyncio.Lock``): concurrent requests wait for one login/refresh and reuse it.
A request answered 403 ``1010005`` (or a bare 401) renews once — refresh token first,
a fresh login if the refresh fails — and is re-sent once; a second rejection goes back
to the caller. Logins are never looped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass

import httpx

from fota_tui.errors import (
    ProviderAuthError,
    ProviderProtocolError,
    ProviderRejected,
)
from fota_tui.providers.http import loads_or_none
from fota_tui.providers.oceanconnect.wire import TokenResponse

log = logging.getLogger(__name__)

TOKEN_INVALID = "1010005"
EARLY_RENEWAL = 60.0  # seconds before expiry when a token is renewed proactively
MAX_LIFETIME = 30 * 86400  # a longer expiresIn (even 10**400) counts as this many seconds

# (refresh token or None for a login) → the token answer; errors already mapped.
TokenRequest = Callable[[str | None], Awaitable[TokenResponse]]


@dataclass(frozen=True)
class Token:
    access: str
    refresh: str | None
    renew_at: float  # on the adapter's monotonic clock, a little before expiry


def token_rejected(response: httpx.Response) -> bool:
    """401, or 403 with ``error_code`` 1010005 (invalid access token or app_key)."""
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    body = loads_or_none(response.content)
    return isinstance(body, dict) and str(body.get("error_code")) == TOKEN_INVALID


class OceanConnectAuth(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        request_token: TokenRequest,
        *,
        monotonic: Callable[[], float],
        before_resend: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._request_token = request_token
        self._monotonic = monotonic
        self._before_resend = before_resend
        self._lock = asyncio.Lock()
        self.token: Token | None = None
        self.logins = 0
        self.refreshes = 0

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("OceanConnectAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        access = await self.access_token()
        self._apply(request, access)
        response = yield request
        await response.aread()  # the error body says whether the token was refused
        if not token_rejected(response):
            return
        renewed = await self.renew(stale=access)
        if self._before_resend is not None:
            await self._before_resend()
        self._apply(request, renewed)
        yield request

    @staticmethod
    def _apply(request: httpx.Request, access: str) -> None:
        request.headers["Authorization"] = f"Bearer {access}"

    async def access_token(self) -> str:
        async with self._lock:
            token = self.token
            if token is None or self._monotonic() >= token.renew_at:
                token = await self._obtain(token)
            return token.access

    async def renew(self, stale: str) -> str:
        """A new token, unless another request already replaced ``stale``."""
        async with self._lock:
            token = self.token
            if token is not None and token.access != stale:
                return token.access
            return (await self._obtain(token)).access

    async def _obtain(self, old: Token | None) -> Token:
        self.token = None
        if old is not None and old.refresh:
            try:
                answer = await self._request_token(old.refresh)
                self.refreshes += 1
                return self._store(answer)
            except (ProviderAuthError, ProviderRejected, ProviderProtocolError) as exc:
                log.info("token refresh failed (%s); logging in again", exc.title)
        answer = await self._request_token(None)
        self.logins += 1
        return self._store(answer)

    def _store(self, answer: TokenResponse) -> Token:
        lifetime = float(min(max(answer.expiresIn, 0), MAX_LIFETIME))
        margin = min(EARLY_RENEWAL, lifetime / 4)
        renew_at = self._monotonic() + lifetime - margin
        self.token = Token(answer.accessToken, answer.refreshToken, renew_at)
        return self.token
