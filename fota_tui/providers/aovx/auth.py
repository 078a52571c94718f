"""The AOVX ``token`` header as an httpx auth flow: cache, re-login once, single-flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator

import httpx

from fota_tui.providers.aovx.normalize import is_token_invalid
from fota_tui.providers.http import loads_or_none

Login = Callable[[], Awaitable[str]]


def token_rejected(response: httpx.Response) -> bool:
    """HTTP 401, or an envelope saying the token is invalid/expired (any language)."""
    if response.status_code == 401:
        return True
    body = loads_or_none(response.content)
    if not isinstance(body, dict) or body.get("code") in (200, "200"):
        return False
    code = body.get("code")
    message = body.get("message")
    return is_token_invalid(
        code if isinstance(code, int) else None, message if isinstance(message, str) else None
    )


class AovxAuth(httpx.Auth):
    """Adds ``token: <tokenId>``.

    With a ``login`` callable, a missing token is fetched first and a rejected one is
    replaced by one fresh login (shared by concurrent requests) and the request retried
    once; a second rejection is returned as is (never a login loop). Without ``login``
    (a fixed token) rejections pass through and the adapter reports an auth error.
    """

    def __init__(self, *, token: str | None = None, login: Login | None = None) -> None:
        self._token = token
        self._login = login
        self._lock = asyncio.Lock()
        self._generation = 0
        self._error: Exception | None = None
        self.logins = 0

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("AovxAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = self._token or await self._refresh(None)
        request.headers["token"] = token
        response = yield request
        await response.aread()  # the envelope says whether the token was refused
        if self._login is None or not token_rejected(response):
            return
        request.headers["token"] = await self._refresh(token)
        yield request

    async def _refresh(self, stale: str | None) -> str:
        """One login at a time; callers that waited share its token or its error."""
        if self._login is None:
            raise RuntimeError("no token and no login configured")
        generation = self._generation
        async with self._lock:
            if self._generation != generation:  # a login ran while we waited
                if self._error is not None:
                    raise self._error
                if self._token is not None:
                    return self._token
            if self._token is not None and self._token != stale:
                return self._token
            self._token, self._error = None, None
            self.logins += 1
            try:
                self._token = await self._login()
            except Exception as exc:
                self._error = exc
                raise
            finally:
                self._generation += 1  # tells the waiters a login finished
            return self._token
