"""The AOVX cloud adapter (docs/platforms/aovx.md, seed page 000).

- Envelope ``{"code", "message", "data"}`` with ``code`` 200 on success; errors are HTTP 200
  with another ``code`` and an English or Chinese ``message`` (inferred): 401 or a
  token-invalid message → re-login once (auth error with a fixed token), 429 → rate
  limited (``Retry-After`` honoured when sent), 404 → not found, >= 500 → unavailable
  (5xx codes; retried for reads), anything else → rejected with the platform's code and message.
- Auth: ``token: <tokenId>`` from a fixed ``token`` or a login at ``login_path`` (public
  path unknown; default ``/system/user/login``) with ``{"userName", "password"}`` where
  the password is the MD5 hex of the plaintext (sent as given when ``password_is_md5``).
- Paging: 1-based ``pageNum``/``pageSize``; ``size`` is the page count; pages after the
  first are fetched concurrently (bounded) and paging stops at ``size`` or a short page.
  AOVX publishes no maximum page size, ids per report query or rate limit (the docs'
  default page is 20; docs/platforms/aovx.md infers <= 5 requests in flight). The client asks
  for ``page_size`` rows and ``id_batch`` terminal ids per query (default 500 each) with
  ``concurrency`` requests in flight (default 8), all constructor arguments: a 2,000-
  terminal refresh is then 9 requests. A server that caps the page size silently is
  detected (a short first page while ``total`` or ``size`` says more) and paged at the
  size it served.
- One refresh (``devices()``, ``upgrades()``, ``campaigns()`` at once) lists the terminals
  once and reads the OTA report once: callers share a read while it runs (see
  ``providers.sharing``); every refresh reads again.
- No job ids: see ``grouping`` for how records become campaigns. The server's clock is
  read from each answer's ``Date`` header, so time windows and the send time of a create
  follow the platform, not the local clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from fota_tui.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from fota_tui.models import (
    AuthState,
    Campaign,
    CampaignDetail,
    CampaignSpec,
    CampaignState,
    Capabilities,
    Device,
    DeviceUpgrade,
    Firmware,
    ProviderKind,
    UpgradeState,
    state_counts,
)
from fota_tui.providers.adapter import HttpAdapter
from fota_tui.providers.aovx import command, grouping, normalize
from fota_tui.providers.aovx.auth import AovxAuth
from fota_tui.providers.aovx.wire import (
    Envelope,
    LoginData,
    OnlineStatus,
    OtaRecord,
    Page,
    Terminal,
    TerminalInfo,
)
from fota_tui.providers.base import GroupSource, LocalGroup, PlannedRequest
from fota_tui.providers.http import (
    REDACTED,
    ClientOptions,
    PageGuard,
    ServerClock,
    expect,
    header_time,
    map_http_status,
    parse_json,
    retry_after_seconds,
)
from fota_tui.providers.incremental import (
    HOT_AFTER,
    Contradiction,
    Listing,
    SweepReporting,
    Sweeps,
    recent_sends,
)
from fota_tui.providers.sharing import SharedReads

DEFAULT_LOGIN_PATH = "/system/user/login"
SEND = "/system/asset/command/sendOtaCommand"
REPORT = "/system/asset/command/queryTerminalOtaReport"
TERMINALS = "/system/asset/terminal/queryLoginUserTerminalInfoList"
TERMINAL = "/system/asset/terminal/queryTerminalInfo"
ONLINE = "/system/asset/status/queryTerminalOnlineStatus"

HISTORY = timedelta(days=90)  # how far back upgrades()/campaigns() read the OTA report
SENT_SLACK = timedelta(minutes=5)  # record times against the group's creation
LOOKAHEAD = timedelta(days=1)  # endTime margin for clock skew
DETAIL_WINDOW = timedelta(days=3)  # report window around one campaign's send time
PAGE_SIZE = 500  # rows per page; not published (docs' default 20), a silent cap is detected
ID_BATCH = 500  # terminal ids per OTA report query; not published
CONCURRENCY = 8  # requests in flight; not published

_PROTOCOLS = {"0": "FTP", "1": "HTTP"}
_TYPES = {"0": "app", "1": "code"}
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


async def ordered(factories: Iterable[Callable[[], Awaitable[T]]], window: int) -> AsyncIterator[T]:
    """Run up to ``window`` calls at once and yield their results in order."""
    pending: deque[asyncio.Future[T]] = deque()
    try:
        for factory in factories:
            pending.append(asyncio.ensure_future(factory()))
            if len(pending) >= window:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _md5(password: SecretStr, already_md5: bool) -> SecretStr:
    value = password.get_secret_value()
    if already_md5:
        value = value.strip().lower()
        if not _MD5_RE.match(value):
            raise ConfigError(
                "password_is_md5 is set, so password must be a 32-character hex MD5 digest",
                key="password",
            )
        return SecretStr(value)
    return SecretStr(hashlib.md5(value.encode("utf-8")).hexdigest())


class AovxClient(SweepReporting, HttpAdapter):
    kind = ProviderKind.AOVX
    capabilities: ClassVar[Capabilities] = Capabilities(
        cancel_campaign=False, returns_job_id=False, native_campaigns=False
    )
    CAMPAIGN_OPTIONS: ClassVar[dict[str, str]] = command.CAMPAIGN_OPTIONS

    def __init__(
        self,
        options: ClientOptions,
        *,
        token: SecretStr | None = None,
        username: str | None = None,
        password: SecretStr | None = None,
        login_path: str = DEFAULT_LOGIN_PATH,
        password_is_md5: bool = False,
        groups: GroupSource | None = None,
        page_size: int = PAGE_SIZE,
        id_batch: int = ID_BATCH,
        concurrency: int = CONCURRENCY,
    ) -> None:
        super().__init__(options)
        for key, value in (
            ("page_size", page_size),
            ("id_batch", id_batch),
            ("concurrency", concurrency),
        ):
            if value < 1:
                raise ConfigError(f"expected a whole number >= 1, got {value}", key=key)
        self.page_size = page_size
        self.id_batch = id_batch  # terminal ids per OTA report query
        self.concurrency = concurrency  # requests in flight
        if (username is None) != (password is None):
            raise ConfigError(
                "username and password go together; set both or neither",
                key="password" if password is None else "username",
            )
        if token is None and username is None:
            raise ConfigError("set either token, or username and password", key="token")
        self._username = username
        self._password = _md5(password, password_is_md5) if password is not None else None
        self.login_path = "/" + login_path.strip().lstrip("/")
        self.groups = groups
        self.auth = AovxAuth(
            token=token.get_secret_value() if token is not None else None,
            login=self._login if username is not None else None,
        )
        self._sent: list[LocalGroup] = []  # creates made by this client (no job id)
        self._server_clock = ServerClock()
        self._semaphore: asyncio.Semaphore | None = None
        self._reads = SharedReads()  # one read of each listing per refresh
        # Between refreshes: each terminal's OTA records; only terminals with an upgrade
        # in flight (or just finished, or just sent to) are asked again until a sweep.
        self._sweeps = Sweeps(options)
        self._known: dict[str, list[normalize.Report]] = {}
        self._terminals: Listing[Device] = Listing(options, self._sweeps)

    def _build_client(self) -> httpx.AsyncClient:
        return self.options.build_client(auth=self.auth, concurrency=self.concurrency)

    # -- one read per refresh --------------------------------------------------------
    async def aclose(self) -> None:
        self._reads.close()
        await super().aclose()

    # -- envelope and errors ---------------------------------------------------------
    @property
    def _offset(self) -> timedelta:
        return self._server_clock.offset

    def server_now(self) -> datetime:
        """The platform's clock as last seen in a ``Date`` header."""
        return self._server_clock.now()

    def platform_time(self) -> datetime | None:
        return self._server_clock.seen_now()

    def _parse(self, model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "value"
            raise ProviderProtocolError(
                self.name, f"{what}: {where}: {first['msg']} (got {type(data).__name__})"
            ) from None

    def _envelope(self, response: httpx.Response) -> Envelope:
        payload = expect(self.name, parse_json(self.name, response), dict, "response body")
        return self._parse(Envelope, payload, "response envelope")

    def _http_error(self, response: httpx.Response) -> ProviderError | None:
        code = message = None
        try:
            envelope = self._envelope(response)
            code, message = str(envelope.code), envelope.message
        except ProviderError:
            pass
        return map_http_status(self.name, response, code=code, message=message)

    def _decode(self, response: httpx.Response) -> Any:
        self._server_clock.observe(response)
        if response.status_code >= 400:
            error = self._http_error(response)
            if error is not None:
                raise error
        envelope = self._envelope(response)
        if envelope.code == 200:
            return envelope.data
        raise self._envelope_error(envelope, response)

    def _envelope_error(self, envelope: Envelope, response: httpx.Response) -> ProviderError:
        code, text = envelope.code, envelope.message or f"code {envelope.code}"
        if code == 429:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            return ProviderRateLimited(self.name, text, retry_after=retry_after)
        if normalize.is_token_invalid(code, envelope.message):
            self.auth_state = AuthState.FAILED
            return ProviderAuthError(self.name, f"{text} (code {code})")
        if code == 404:
            return ProviderNotFound(self.name, text, code=str(code), status=response.status_code)
        if 500 <= code < 600:  # HTTP-like server failure codes
            return ProviderUnavailable(self.name, f"code {code}: {text}")
        return ProviderRejected(self.name, text, code=str(code), status=response.status_code)

    # -- login -------------------------------------------------------------------------
    async def _login(self) -> str:
        assert self._username is not None and self._password is not None
        body = {"userName": self._username, "password": self._password.get_secret_value()}
        response = await self._send("POST", self.login_path, json=body, auth=None)
        self._server_clock.observe(response)
        if response.status_code in (404, 405):
            raise ProviderAuthError(
                self.name,
                f"login failed: HTTP {response.status_code} at {self.login_path} "
                "(check login_path)",
            )
        if response.status_code >= 400 and (error := self._http_error(response)) is not None:
            raise error
        envelope = self._envelope(response)
        if envelope.code == 429:
            raise self._envelope_error(envelope, response)
        if envelope.code != 200:
            self.auth_state = AuthState.FAILED
            text = envelope.message or "no message"
            raise ProviderAuthError(self.name, f"login refused: {text} (code {envelope.code})")
        data = self._parse(LoginData, envelope.data, "login data")
        self.auth_state = AuthState.OK
        return data.token_id

    # -- reads -------------------------------------------------------------------------
    async def _read(self, path: str, body: dict[str, Any]) -> Any:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        async with self._semaphore:
            return await self.call("POST", path, json=body)

    async def _page(self, path: str, query: dict[str, Any], number: int, size: int) -> Page:
        data = await self._read(path, {**query, "pageNum": number, "pageSize": size})
        return self._parse(Page, data, f"{path.rsplit('/', 1)[-1]} page {number}")

    async def _rows(self, path: str, query: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        """Every row, page by page; pages after the first are fetched concurrently."""
        size = self.page_size
        guard = PageGuard(self.name, path.rsplit("/", 1)[-1], self.options.max_pages)
        first = await self._page(path, query, 1, size)
        guard.page(_row_ids(first.rows))
        yield first.rows
        served = len(first.rows)
        if served < size:
            more = (first.total or 0) > served or (first.size or 0) > 1
            if not served or not more:
                return
            size = served  # the server capped the page size: page at the size it serves
        pages = first.size
        if first.total is not None and (pages is None or size != self.page_size):
            pages = -(-first.total // size)
        last = guard.announced(pages) if pages is not None else self.options.max_pages + 1

        def fetch(n: int) -> Callable[[], Awaitable[Page]]:
            return lambda: self._page(path, query, n, size)

        async for page in ordered((fetch(n) for n in range(2, last + 1)), self.concurrency):
            guard.page(_row_ids(page.rows))
            yield page.rows
            if len(page.rows) < size:
                return

    @staticmethod
    def _terminal_query() -> dict[str, Any]:
        # The docs' table says keyType, their examples queryType: send both.
        return {"queryType": 0, "keyType": 0, "key": ""}

    async def _probe(self) -> None:
        await self._page(TERMINALS, self._terminal_query(), 1, 1)

    async def devices(self) -> AsyncIterator[Device]:
        for device in await self._reads.get("terminals", self._listed_terminals):
            yield device

    async def _listed_terminals(self) -> list[Device]:
        return await self._terminals.get(self._list_terminals)

    async def _list_terminals(self) -> list[Device]:
        return [
            normalize.device(self.name, self._parse(Terminal, row, "terminal"))
            async for rows in self._rows(TERMINALS, self._terminal_query())
            for row in rows
        ]

    async def _terminal_ids(self) -> list[str]:
        return [d.device_id for d in await self._reads.get("terminals", self._listed_terminals)]

    async def _reports(
        self, ids: list[str], start: datetime, end: datetime
    ) -> list[normalize.Report]:
        query = {
            "ids": ids,
            "startTime": normalize.request_time(start),
            "endTime": normalize.request_time(end),
        }
        reports = []
        async for rows in self._rows(REPORT, query):
            for row in rows:
                record = self._parse(OtaRecord, row, "OTA report record")
                reports.append(normalize.report(record, self.options.map_status))
        return reports

    async def _scan(
        self, ids: list[str], start: datetime, end: datetime
    ) -> AsyncIterator[list[normalize.Report]]:
        """The OTA report of ``ids`` in batches of ``id_batch`` terminals."""
        batches = [ids[i : i + self.id_batch] for i in range(0, len(ids), self.id_batch)]

        def fetch(batch: list[str]) -> Callable[[], Awaitable[list[normalize.Report]]]:
            return lambda: self._reports(batch, start, end)

        async for reports in ordered((fetch(b) for b in batches), self.concurrency):
            yield reports

    def _window(self) -> tuple[datetime, datetime]:
        now = self.server_now()
        return now - HISTORY, now + LOOKAHEAD

    def _local_groups(self) -> list[LocalGroup]:
        groups = list(self.groups.groups(self.name)) if self.groups is not None else []
        known = {g.campaign_id for g in groups}
        return groups + [g for g in self._sent if g.campaign_id not in known]

    async def _everything(self) -> tuple[list[normalize.Report], list[LocalGroup]]:
        """The refresh's OTA report (shared) and the local groups (read now)."""
        groups = self._local_groups()
        return await self._reads.get("reports", self._read_reports), groups

    async def _read_reports(self) -> list[normalize.Report]:
        ids = await self._terminal_ids()
        start, end = self._window()
        return await self._sweeps.read(
            lambda: self._reports_of(ids, start, end, self._hot(ids, end - LOOKAHEAD)),
            lambda: self._reports_of(ids, start, end, ids),
        )

    def _hot(self, ids: list[str], now: datetime) -> list[str]:
        """Terminals whose OTA records can have changed: not seen yet, an upgrade in
        flight or finished within ``HOT_AFTER``, or sent to by fota-tui since."""
        sent = recent_sends(self._local_groups(), now, SENT_SLACK)
        hot = []
        for terminal in ids:
            known = self._known.get(terminal)
            since = sent.get(terminal)
            if (
                known is None
                or any(not r.state.terminal for r in known)
                or any(r.changed_at and now - r.changed_at <= HOT_AFTER for r in known)
                or (since and not any(r.sent_at and r.sent_at >= since for r in known))
            ):
                hot.append(terminal)
        return hot

    async def _reports_of(
        self, ids: list[str], start: datetime, end: datetime, read: list[str]
    ) -> list[normalize.Report]:
        """Every terminal's records, asking the platform for ``read`` only; raises
        ``Contradiction`` when a record known for a terminal read again is missing."""
        fresh: dict[str, list[normalize.Report]] = {t: [] for t in read}
        async for batch in self._scan(read, start, end):
            for report in batch:
                fresh.setdefault(report.terminal_id, []).append(report)
        for terminal, reports in fresh.items():
            seen = {(r.sent_at, r.mark) for r in reports}
            missing = [r for r in self._known.get(terminal, ()) if (r.sent_at, r.mark) not in seen]
            if missing and len(read) < len(ids):
                sent = missing[0].sent_at
                when = f"{sent:%Y-%m-%d %H:%M:%S}" if sent else "at an unknown time"
                raise Contradiction(f"{terminal}: a record sent {when} is missing")
        self._known.update(fresh)
        listed = set(ids)
        self._known = {t: r for t, r in self._known.items() if t in listed}
        return [report for terminal in ids for report in self._known.get(terminal, ())]

    async def upgrades(self) -> AsyncIterator[DeviceUpgrade]:
        reports, groups = await self._everything()
        for item in grouping.assign(reports, groups, offset=self._offset):
            yield grouping.upgrade(self.name, item.report, item.campaign_id)

    async def campaigns(self) -> list[Campaign]:
        reports, groups = await self._everything()
        assigned = grouping.assign(reports, groups, offset=self._offset)
        return [d.campaign for d in grouping.details(self.name, assigned, groups)]

    async def campaign(self, campaign_id: str) -> CampaignDetail:
        groups = self._local_groups()
        group = next((g for g in groups if g.campaign_id == campaign_id), None)
        if group is not None:
            ids = list(dict.fromkeys(group.device_ids))
            center = grouping.aware(group.created_at)
            anchors = (center, center + self._offset)
            start, end = min(anchors) - DETAIL_WINDOW, max(anchors) + DETAIL_WINDOW
        else:
            at = normalize.batch_time(campaign_id)
            if at is None:
                raise ProviderNotFound(self.name, f"no AOVX campaign {campaign_id!r}")
            ids = await self._terminal_ids()
            start, end = at - DETAIL_WINDOW, at + DETAIL_WINDOW
        reports: list[normalize.Report] = []
        async for batch in self._scan(ids, start, end):
            reports.extend(batch)
        assigned = grouping.assign(reports, groups, offset=self._offset)
        for detail in grouping.details(self.name, assigned, groups):
            if detail.campaign.campaign_id == campaign_id:
                return detail
        raise ProviderNotFound(self.name, f"no AOVX campaign {campaign_id!r} in the OTA report")

    async def device_history(self, device_id: str) -> list[DeviceUpgrade]:
        if not self._server_clock.seen:
            await self._probe()  # learn the server's clock before choosing the window
        start, end = self._window()
        reports = await self._reports([device_id], start, end)
        assigned = grouping.assign(reports, self._local_groups(), offset=self._offset)
        history = [grouping.upgrade(self.name, a.report, a.campaign_id) for a in assigned]
        history.sort(key=lambda u: u.created_at or grouping.NEVER, reverse=True)
        return history

    async def firmware(self) -> list[Firmware]:
        """AOVX has no package list API: the packages seen in the OTA report (and sent)."""
        reports, groups = await self._everything()
        found: dict[str, Firmware] = {}
        for report in sorted(reports, key=lambda r: r.sent_at or grouping.NEVER, reverse=True):
            info = report.info
            if info.url and info.url not in found:
                found[info.url] = Firmware(
                    provider=self.name,
                    kind=self.kind,
                    firmware_id=info.url,
                    name=normalize.file_name(info.url),
                    version=info.version,
                    protocol=_PROTOCOLS.get(info.protocol or ""),
                    url=info.url,
                    file_type=_TYPES.get(info.type or ""),
                )
        for group in groups:
            if group.firmware and group.firmware not in found:
                found[group.firmware] = Firmware(
                    provider=self.name,
                    kind=self.kind,
                    firmware_id=group.firmware,
                    name=normalize.file_name(group.firmware),
                    version=group.firmware_to,
                    url=group.firmware,
                )
        return sorted(found.values(), key=lambda f: (f.name, f.firmware_id))

    async def device(self, device_id: str) -> Device:
        """One terminal with its online state (``queryTerminalInfo``)."""
        data = await self._read(TERMINAL, {"terminalId": device_id})
        info = self._parse(TerminalInfo, data, "terminal info")
        status = info.terminal_status
        online = (
            None if status is None or status.online_status is None else bool(status.online_status)
        )
        return normalize.device(self.name, info, online)

    async def online(self, device_id: str) -> bool | None:
        """``queryTerminalOnlineStatus``: True/False, None when the platform does not say."""
        data = await self._read(ONLINE, {"terminalId": device_id})
        status = self._parse(OnlineStatus, data, "online status")
        return None if status.online_status is None else bool(status.online_status)

    # -- writes ------------------------------------------------------------------------
    def _command(self, spec: CampaignSpec) -> dict[str, Any]:
        return command.build(self.name, spec, self.server_now())

    def plan_campaign(self, spec: CampaignSpec) -> list[PlannedRequest]:
        body = self._command(spec)
        return [
            PlannedRequest(
                method="POST",
                url=f"{self.options.base_url.rstrip('/')}{SEND}",
                body=body,
                note=(
                    f"header token: {REDACTED}; AOVX returns no job id, so fota-tui tracks "
                    f"the {len(body['terminalIds'])} terminal(s) through the OTA report "
                    "from the send time"
                ),
            )
        ]

    async def create_campaign(self, spec: CampaignSpec) -> list[Campaign]:
        body = self._command(spec)
        try:
            response = await self._send("POST", SEND, json=body)  # never retried
        finally:
            self._reads.forget("reports")  # the next read must see this send
        self._decode(response)
        sent = header_time(response) or self.server_now()
        campaign_id = normalize.batch_id(body["version"], body["fileUrl"], sent)
        devices = tuple(body["terminalIds"])
        self._sent.append(
            LocalGroup(
                campaign_id=campaign_id,
                provider=self.name,
                created_at=sent,
                device_ids=devices,
                name=spec.name,
                firmware=body["fileUrl"],
                firmware_to=body["version"],
            )
        )
        counts = state_counts([UpgradeState.SENDING] * len(devices))
        return [
            Campaign(
                provider=self.name,
                kind=self.kind,
                campaign_id=campaign_id,
                name=spec.name or grouping.default_name(body["version"], body["fileUrl"], sent),
                state=CampaignState.SENDING,
                firmware_name=normalize.file_name(body["fileUrl"]),
                firmware_to=body["version"],
                counts=counts,
                total=len(devices),
                created_at=sent,
                start_at=sent,
                local=True,
            )
        ]

    async def cancel_campaign(self, campaign_id: str) -> Campaign:
        raise self.unsupported("cancel: an OTA command cannot be withdrawn once sent")


def _row_ids(rows: list[dict[str, Any]]) -> tuple[Any, ...] | None:
    """A page's identity for the repeat check: its records' ids (``mark`` on reports)."""
    ids = tuple(row.get("mark") or row.get("id") for row in rows if isinstance(row, dict))
    return ids if any(i is not None for i in ids) else None
