"""ThingSpace auth as one ``httpx.Auth`` flow: OAuth token, then M2M session, then the call.

- OAuth client credentials (``POST /ts/v1/oauth2/token``, Basic ``app_key:app_secret``):
  cached until shortly before ``expires_in``; fetched again after a 401.
- M2M session (``POST /m2m/v1/session/login``, Bearer + ``{username, password}``): reused
  until an API answer says the session is invalid/expired (20 min sliding on the platform).
- Single-flight: one ``asyncio.Lock`` guards both tokens, so any number of concurrent calls
  trigger one token request and one login. A request repairs each token at most
  ``REPAIRS`` times and is re-sent once per repair; a stale answer only invalidates the
  token it was sent with.
- Lockout safety (5 consecutive failed logins lock the user): a failed login is shared with
  every call that started before it (they fail with the same error instead of trying
  again); a "call" is one adapter method (``with auth.call():``, so the HTTP requests of
  one ``campaigns()`` are one call) or else one request. A new call may try again, but
  after ``max_failed_logins`` refused logins in a row no further login is attempted by this
  client at all until ``reset()``.

Which answers mean "token problem" is inferred [I] (the codes are not published): HTTP 401,
or 400/401/403 whose ``errorCode``/``errorMessage`` talks about the session or M2M token
(e.g. ``SessionTokenExpired``), an expired/invalid token, or ``UnAuthorized``.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

import httpx
from pydantic import SecretStr

from fota_tui.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from fota_tui.providers.http import loads_or_none, parse_json, retry_after_seconds
from fota_tui.providers.thingspace.wire import ErrorAnswer, SessionAnswer, TokenAnswer, parse

Problem = Literal["oauth", "session"]
SESSION_HEADER = "VZ-M2M-Token"
# Token repairs one request may make per problem: two, because tokens another request's
# answer expired can be stale again by the time this one is repaired. A stale Bearer on
# login (401) does not count towards the platform's lockout; refused passwords do.
REPAIRS = 2
# The failure epoch seen when the current adapter call began (None outside a call).
_CALL_EPOCH: ContextVar[int | None] = ContextVar("thingspace_call_epoch", default=None)


def auth_problem(response: httpx.Response) -> Problem | None:
    """Does this answer say the OAuth token or the M2M session is not (or no longer) valid?"""
    if response.status_code not in (400, 401, 403):
        return None
    body = loads_or_none(response.content)
    try:
        answer = ErrorAnswer.model_validate(body) if isinstance(body, dict) else ErrorAnswer()
    except ValueError:  # a pydantic ValidationError
        answer = ErrorAnswer()
    text = f"{answer.code or ''} {answer.message or ''}".lower()
    if "session" in text or "m2m" in text:
        return "session"
    if response.status_code == 401:
        return "oauth"
    squashed = text.replace(" ", "").replace("_", "")
    if "unauthorized" in squashed or "invalidtoken" in squashed:
        return "oauth"
    if "token" in text and ("expired" in text or "invalid" in text):
        return "oauth"
    return None


class ThingSpaceAuth(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        *,
        provider: str,
        api_root: str,
        app_key: str,
        app_secret: SecretStr,
        username: str,
        password: SecretStr,
        monotonic: Callable[[], float],
        max_failed_logins: int = 2,
    ) -> None:
        self.provider = provider
        self._token_url = f"{api_root}/ts/v1/oauth2/token"
        self._login_url = f"{api_root}/m2m/v1/session/login"
        self._app_key, self._app_secret = app_key, app_secret
        self._username, self._password = username, password
        self._monotonic = monotonic
        self.max_failed_logins = max_failed_logins
        self._lock = asyncio.Lock()
        self._oauth: str | None = None
        self._oauth_until = 0.0
        self.session: str | None = None
        self._failures = 0  # refused logins in a row
        self._epoch = 0  # bumped on every failed token request or login
        self._last_error: ProviderAuthError | None = None
        self.token_requests = 0
        self.logins = 0

    # -- state -------------------------------------------------------------------
    @property
    def oauth_token(self) -> str | None:
        return self._oauth

    def reset(self) -> None:
        """Forget both tokens and the failed-login count (e.g. after fixing credentials)."""
        self._oauth, self.session, self._failures, self._last_error = None, None, 0, None

    @contextmanager
    def call(self) -> Iterator[None]:
        """Mark one adapter call: its requests share the failures that happen during it."""
        if _CALL_EPOCH.get() is not None:
            yield
            return
        token = _CALL_EPOCH.set(self._epoch)
        try:
            yield
        finally:
            _CALL_EPOCH.reset(token)

    def _oauth_fresh(self) -> bool:
        return self._oauth is not None and self._monotonic() < self._oauth_until

    def _fail(self, error: ProviderError) -> ProviderError:
        """Record a refusal (wrong credentials, locked user) so waiting calls share it;
        transient failures (5xx, throttling, bad bodies) are not shared: retries may retry."""
        if isinstance(error, ProviderAuthError):
            self._epoch += 1
            self._last_error = error
        return error

    def _refuse_if_failed(self, epoch: int) -> None:
        """Calls that began before a refused token request/login fail the same way."""
        if self._epoch != epoch and self._last_error is not None:
            raise ProviderAuthError(self.provider, self._last_error.message)
        if self._failures >= self.max_failed_logins:
            raise ProviderAuthError(
                self.provider,
                f"M2M login was refused {self._failures} times in a row; not trying again"
                " (ThingSpace locks the user after 5 failed logins). Check the username and"
                " password, then reconnect.",
            )

    # -- requests ------------------------------------------------------------------
    def _token_request(self) -> httpx.Request:
        pair = f"{self._app_key}:{self._app_secret.get_secret_value()}".encode()
        return httpx.Request(
            "POST",
            self._token_url,
            headers={
                "Authorization": f"Basic {base64.b64encode(pair).decode()}",
                "Accept": "application/json",
            },
            data={"grant_type": "client_credentials"},
        )

    def _login_request(self, oauth: str) -> httpx.Request:
        return httpx.Request(
            "POST",
            self._login_url,
            headers={"Authorization": f"Bearer {oauth}", "Accept": "application/json"},
            json={"username": self._username, "password": self._password.get_secret_value()},
        )

    def _answer_error(self, response: httpx.Response, what: str) -> ProviderError:
        status = response.status_code
        if status == 429:
            return ProviderRateLimited(
                self.provider,
                f"{what}: rate limited",
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        if status >= 500 or status == 408:
            return ProviderUnavailable(self.provider, f"{what}: HTTP {status}")
        try:
            answer = parse(self.provider, ErrorAnswer, parse_json(self.provider, response), what)
        except ProviderError:
            answer = ErrorAnswer()
        code = answer.code or f"HTTP {status}"
        return ProviderAuthError(self.provider, f"{what} refused [{code}]: {answer.message or ''}")

    def _take_token(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise self._fail(self._answer_error(response, "OAuth token request"))
        try:
            answer = parse(
                self.provider, TokenAnswer, parse_json(self.provider, response), "OAuth token"
            )
        except ProviderError as exc:
            raise self._fail(exc) from None
        life = answer.expires_in if answer.expires_in and answer.expires_in > 0 else 3600.0
        self._oauth = answer.access_token
        self._oauth_until = self._monotonic() + life - min(60.0, life / 10)

    def _take_session(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            error = self._answer_error(response, "M2M session login")
            if isinstance(error, ProviderAuthError) and response.status_code != 401:
                self._failures += 1  # the platform counts it towards the lockout
                if "lock" in error.message.lower():
                    self._failures = max(self._failures, self.max_failed_logins)
            raise self._fail(error)
        try:
            answer = parse(
                self.provider, SessionAnswer, parse_json(self.provider, response), "M2M login"
            )
        except ProviderError as exc:
            raise self._fail(exc) from None
        self._failures = 0
        self.session = answer.sessionToken

    # -- the flow --------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("ThingSpaceAuth works with httpx.AsyncClient only")
        yield request  # pragma: no cover

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        call_epoch = _CALL_EPOCH.get()
        epoch = self._epoch if call_epoch is None else call_epoch
        repaired: Counter[Problem] = Counter()  # repairs this request has made, by problem
        while True:
            async with self._lock:
                while True:
                    if not self._oauth_fresh():
                        self._refuse_if_failed(epoch)
                        self.token_requests += 1
                        answer: httpx.Response = yield self._token_request()
                        await answer.aread()
                        self._take_token(answer)
                    if self.session is None:
                        self._refuse_if_failed(epoch)
                        self.logins += 1
                        assert self._oauth is not None
                        answer = yield self._login_request(self._oauth)
                        await answer.aread()
                        if answer.status_code == 401 and repaired["oauth"] < REPAIRS:
                            repaired["oauth"] += 1  # the Bearer was stale, not the password
                            self._oauth = None
                            continue
                        self._take_session(answer)
                    break
                oauth, session = self._oauth, self.session
            assert oauth is not None and session is not None
            request.headers["Authorization"] = f"Bearer {oauth}"
            request.headers[SESSION_HEADER] = session
            response = yield request
            await response.aread()
            problem = auth_problem(response)
            if problem is None or repaired[problem] >= REPAIRS:
                return
            repaired[problem] += 1
            async with self._lock:  # only drop the token this answer was about
                if problem == "oauth" and self._oauth == oauth:
                    self._oauth = None
                if problem == "session" and self.session == session:
                    self.session = None
