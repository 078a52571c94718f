"""China Mobile OneNET NB-IoT adapter (legacy ``api.heclouds.com``), written from
docs/platforms/onenet.md.

- Auth: ``api-key: <product MasterKey>`` on every call; no tokens, nothing to refresh.
- Envelope ``{errno, error, data}``, HTTP 200 for platform errors: errno 1 → auth error
  (or "IMEI not in this product" once the key is known to work), 7 → rate limited
  (the documented "retry after an interval"; ``Retry-After`` honoured when sent),
  5117 → unavailable, others → rejected with the errno as ``code``.
- No FOTA API: a campaign is, per IMEI, a cached WRITE of the package URI to ``/5/0/1``
  plus a cached EXECUTE of ``/5/0/2``. ``upgrades()`` pairs them per device from
  ``/nbiot/offline/history`` and, for updates delivered within ``fota_window``, reads
  object 5 (State / Update Result) with one instant read to tell downloading, updating,
  done and failed apart (offline devices keep the command-level state).
- Campaigns are fota-tui's: ``groups`` when given, else batches inferred from the commands
  (see ``batches``). ``create_campaign`` returns the created command uuids in
  ``Campaign.provider_status_raw["commands"]`` as ``{imei: {"write": uuid, "execute": uuid}}``
  (record them as ``LocalGroup.job_refs``); per-device failures are in ``["failed"]``.
- The FAQ allows 300 calls/s; the client stays under ``per_second`` (default 280) with up to
  ``concurrency`` calls in flight (its HTTP pool holds at least that many connections).
- One refresh (``devices()``, ``upgrades()`` and ``campaigns()`` at once) reads the device
  list once and each device's history once: concurrent callers share the read in flight
  (see ``providers.sharing``); every refresh reads again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import SecretStr

from fota_tui.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from fota_tui.models import (
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
)
from fota_tui.providers.adapter import HttpAdapter
from fota_tui.providers.base import GroupSource, LocalGroup, PlannedRequest
from fota_tui.providers.http import (
    ClientOptions,
    PageGuard,
    RateLimiter,
    ServerClock,
    expect,
    loads_or_none,
    map_http_status,
    parse_json,
    retry_after_seconds,
)
from fota_tui.providers.incremental import Listing, SweepReporting, Sweeps, recent_sends
from fota_tui.providers.onenet import batches, plan, rules
from fota_tui.providers.onenet.history import HistoryCache
from fota_tui.providers.onenet.normalize import (
    FotaPair,
    as_int,
    command_state,
    device_from_imei,
    device_from_record,
    object5_values,
    pair_commands,
    pair_state,
    refine_with_object5,
    upgrade,
)
from fota_tui.providers.onenet.wire import (
    Command,
    CommandDetail,
    CommandPage,
    Created,
    DeviceByImei,
    DevicePage,
    Instance,
    int_text,
    parse,
    parse_beijing,
    parse_list,
    to_beijing,
)
from fota_tui.providers.platform import option_help
from fota_tui.providers.sharing import SharedReads

log = logging.getLogger(__name__)
T = TypeVar("T")
Row = tuple[FotaPair, UpgradeState, Any, "str | None"]

PER_PAGE = 100  # documented maximum for /devices; used for history too
HISTORY_DAYS = 90
SLICE = 250  # devices worked through from the cache between two looks at the screen
STORED_WRITE_WINDOW = timedelta(hours=6)  # history searched for a write whose answer was lost
LOST_ANSWER = (ProviderTimeout, ProviderUnavailable, ProviderProtocolError)
_FIELD = re.compile(r"(?:required|parameter|limit):\s*([a-z][a-z_]*)(?:$|\s+(?:must|is|needs|can))")


class ApiKeyAuth(httpx.Auth):
    """``api-key: <MasterKey>`` on every request (the secret stays out of client headers)."""

    def __init__(self, key: SecretStr) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["api-key"] = self._key.get_secret_value()
        yield request


@dataclass
class Scan:
    """One pass over device histories: the FOTA pairs, their upgrades and batches."""

    pairs: list[FotaPair] = field(default_factory=list)
    upgrades: list[DeviceUpgrade] = field(default_factory=list)  # same order as pairs
    batches: list[batches.Batch] = field(default_factory=list)


class OneNetClient(SweepReporting, HttpAdapter):
    kind = ProviderKind.ONENET
    capabilities: ClassVar[Capabilities] = Capabilities(
        cancel_campaign=True,
        abort_campaign=False,
        returns_job_id=True,
        native_campaigns=False,
        device_list=True,
        time_windows=False,
        rate_limit_per_minute=300 * 60,
        local_time=(
            8 * 60,
            "Beijing",
        ),  # its command times are Beijing time (docs/platforms/onenet.md)
    )
    CAMPAIGN_OPTIONS: ClassVar[dict[str, str]] = option_help(rules.OPTIONS)

    def __init__(
        self,
        options: ClientOptions,
        *,
        api_key: SecretStr,
        imeis: list[str] | None = None,
        groups: GroupSource | None = None,
        per_second: int | None = 280,
        concurrency: int = 24,
        fota_window: timedelta | None = timedelta(hours=6),
        batch_gap: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(options)
        self._server_clock = ServerClock()
        self._auth = ApiKeyAuth(api_key)
        self.imeis = [i.strip() for i in imeis or [] if i.strip()]
        self.groups = groups
        self.concurrency = max(1, concurrency)
        self.fota_window = fota_window
        self.batch_gap = batch_gap
        # Command times are the platform's: compare them with its clock (its Date header).
        self.clock = clock or self._server_clock.now
        self._reads_platform_clock = clock is None
        if self.limiter is None and per_second:
            self.limiter = RateLimiter(
                per_second, 1.0, monotonic=options.monotonic, sleep=options.sleep
            )
        self._key_ok = False
        self._campaign_of: dict[str, str] = {}  # command uuid → campaign id (last scan)
        self._recovered: dict[str, str] = {}  # IMEI → how a lost write was finished
        self._reads = SharedReads()  # one read of each listing per refresh
        # Between refreshes (see history.py): what each device's history showed, the
        # last full read, and the device list with when it was read (monotonic).
        self._cache = HistoryCache()
        self._refined: dict[str, tuple[Any, UpgradeState, str | None]] = {}
        self._sweeps = Sweeps(options)
        self._device_list: Listing[Device] = Listing(options, self._sweeps)

    def _build_client(self) -> httpx.AsyncClient:
        return self.options.build_client(auth=self._auth, concurrency=self.concurrency)

    # -- one read per refresh --------------------------------------------------------
    async def aclose(self) -> None:
        self._reads.close()
        await super().aclose()

    # -- envelope ------------------------------------------------------------------
    def _decode(self, response: httpx.Response) -> Any:
        self._server_clock.observe(response)
        if response.status_code >= 400:
            message = None
            body = loads_or_none(response.content)  # None when not JSON
            if isinstance(body, dict) and body.get("error"):
                message = f"{body['error']} (errno {body.get('errno')})"
            error = map_http_status(self.name, response, message=message)
            if error is not None:
                raise error
        body = expect(self.name, parse_json(self.name, response), dict, "response body")
        if "errno" not in body:
            raise ProviderProtocolError(self.name, "response has no errno (not the OneNET API?)")
        raw = body["errno"]
        errno = int_text(raw, signed=True) if isinstance(raw, str) else raw
        if not isinstance(errno, int) or isinstance(errno, bool):
            raise ProviderProtocolError(
                self.name, f"errno: expected an integer, got {str(raw)[:40]!r}"
            )
        if errno == 0:
            self._key_ok = True
            return body.get("data")
        raise self._errno_error(errno, str(body.get("error") or "error"), response)

    def _errno_error(self, errno: int, message: str, response: httpx.Response) -> ProviderError:
        text = f"{message} (errno {errno})"
        if errno == 1:
            return ProviderAuthError(
                self.name, f"{text}: the api-key must be the product MasterKey and match the IMEI"
            )
        if errno == 7:
            return ProviderRateLimited(
                self.name,
                f"{text}; retry later",
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        if errno == 5117:
            return ProviderUnavailable(self.name, text)
        found = _FIELD.search(message)
        return ProviderRejected(
            self.name, text, code=str(errno), field=found.group(1) if found else None
        )

    async def _get(self, path: str, params: dict[str, Any], *, imei: str | None = None) -> Any:
        try:
            return await self.call("GET", path, params=params)
        except ProviderAuthError:
            if imei is not None and self._key_ok:
                raise ProviderNotFound(
                    self.name,
                    f"IMEI {imei} is not a device of this product (errno 1)",
                    code="1",
                    field="imei",
                ) from None
            raise

    async def _probe(self) -> None:
        await self.call("GET", "/devices", params={"page": 1, "per_page": 1})

    async def _platform_now(self) -> datetime:
        """The time to judge command times by: the platform's, known from its answers'
        ``Date`` (one probe first if none has come yet), unless a clock was given."""
        if self._reads_platform_clock and not self._server_clock.seen:
            await self._probe()
        return self.clock()

    async def _bounded(self, calls: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
        """Run calls with at most ``concurrency`` in flight; results in order."""
        gate = asyncio.Semaphore(self.concurrency)

        async def run(call: Callable[[], Awaitable[T]]) -> T:
            async with gate:
                return await call()

        try:  # the first failure stops the rest: no late answer lands after it
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(run(c)) for c in calls]
        except BaseExceptionGroup as failures:
            raise failures.exceptions[0] from None
        return [t.result() for t in tasks]

    # -- devices -------------------------------------------------------------------
    async def _device_page(self, page: int, **extra: Any) -> DevicePage:
        data = await self.call(
            "GET", "/devices", params={"page": page, "per_page": PER_PAGE, **extra}
        )
        return parse(self.name, DevicePage, data, "GET /devices data")

    async def devices(self) -> AsyncIterator[Device]:
        for device in await self._reads.get("devices", self._listing):
            yield device

    async def _listing(self) -> list[Device]:
        """The device list, read again every ``device_list_every`` seconds and on a sweep."""
        if self.imeis:
            return await self._device_list.get(lambda: self._devices_by_imei(self.imeis))
        return await self._device_list.get(self._list_devices)

    async def _list_devices(self) -> list[Device]:
        """Every page of ``/devices``: page 1 for ``total_count``, then the rest
        ``concurrency`` at a time, up to the first short or empty page (a ``total_count``
        may promise more than there is)."""
        guard = PageGuard(self.name, "devices", self.options.max_pages)
        first = await self._device_page(1)
        guard.page(tuple(r.id for r in first.devices))
        pages = guard.announced(max(0, -(-(first.total_count or 0) // PER_PAGE)))
        listed, after = [first], 2
        while len(listed[-1].devices) >= PER_PAGE and after <= pages:
            window = range(after, min(after + self.concurrency, pages + 1))
            for page in await self._bounded([partial(self._device_page, n) for n in window]):
                guard.page(tuple(r.id for r in page.devices))
                listed.append(page)
                if len(page.devices) < PER_PAGE:
                    break
            after = window.stop
        return [device for page in listed for device in self._listed(page)]

    def _listed(self, page: DevicePage) -> list[Device]:
        devices = (device_from_record(self.name, record) for record in page.devices)
        return [d for d in devices if d is not None]

    async def _devices_by_imei(self, imeis: Sequence[str]) -> list[Device]:
        if not self._key_ok:
            await self._probe()  # tells a wrong key from an unknown IMEI

        async def one(imei: str) -> DeviceByImei | None:
            try:
                data = await self._get("/devices/getbyimei", {"imei": imei}, imei=imei)
            except (ProviderNotFound, ProviderRejected) as exc:
                log.warning("%s: IMEI %s skipped: %s", self.name, imei, exc.message)
                return None
            return parse(self.name, DeviceByImei, data, "GET /devices/getbyimei data")

        found = await self._bounded([partial(one, i) for i in imeis])
        ids = [f.id for f in found if f is not None]
        records = {}
        for start in range(0, len(ids), PER_PAGE):
            page = await self._device_page(1, device_id=",".join(ids[start : start + PER_PAGE]))
            records.update({r.id: r for r in page.devices})
        return [
            device_from_imei(self.name, imei, f, records.get(f.id))
            for imei, f in zip(imeis, found, strict=True)
            if f is not None
        ]

    async def _imeis(self) -> list[str]:
        if self.imeis:
            return list(self.imeis)
        # The listing devices() is reading (or read moments ago) in this refresh.
        return [d.device_id for d in await self._reads.get("devices", self._listing)]

    # -- commands ------------------------------------------------------------------
    async def _history(self, imei: str, start: datetime) -> list[Command]:
        items: list[Command] = []
        page = 1
        guard = PageGuard(self.name, f"command history of {imei}", self.options.max_pages)
        while True:
            params = {
                "imei": imei,
                "start": to_beijing(start),
                "page": page,
                "per_page": PER_PAGE,
                "sort": "DESC",
            }
            data = await self._get("/nbiot/offline/history", params, imei=imei)
            parsed = parse(self.name, CommandPage, data, "GET /nbiot/offline/history data")
            guard.page(tuple(c.cmd_uuid for c in parsed.items))
            items.extend(parsed.items)
            if not parsed.items or page * PER_PAGE >= (parsed.total_count or 0):
                return items
            page += 1

    async def _object5(self, imei: str) -> dict[int, Any] | None:
        """State and Update Result of object 5 (an instant read; the device must be online)."""
        params = {"imei": imei, "obj_id": 5, "obj_inst_id": 0, "timeout": 5}
        try:
            data = await self._get("/nbiot", params, imei=imei)
            return object5_values(parse_list(self.name, Instance, data, "GET /nbiot data"))
        except ProviderAuthError:
            raise
        except ProviderError as exc:
            log.debug("%s: object 5 of %s not readable: %s", self.name, imei, exc.message)
            return None

    def _known_writes(self) -> frozenset[str]:
        return frozenset(ref.strip() for g in self._groups() for ref in g.job_refs)

    def platform_time(self) -> datetime | None:
        """The platform's time (its ``Date`` headers), for the journal's record of a send."""
        return self._server_clock.seen_now()

    def _groups(self) -> list[LocalGroup]:
        return list(self.groups.groups(self.name)) if self.groups is not None else []

    async def _device_pairs(
        self, imei: str, start: datetime, now: datetime, refine: bool
    ) -> list[Row]:
        try:
            history = await self._history(imei, start)
        except ProviderNotFound as exc:
            log.warning("%s: %s", self.name, exc.message)
            return []
        return await self._rows(imei, history, now, refine)

    async def _rows(
        self,
        imei: str,
        history: list[Command],
        now: datetime,
        refine: bool,
        known_writes: frozenset[str] | None = None,
    ) -> list[Row]:
        """Each upgrade of one device from its commands; the newest one refined with
        object 5 when ``refine`` (else with what object 5 said at the last read)."""
        out = self._pairs(imei, history, now, known_writes, reuse=not refine)
        if not out or not refine:
            return out
        pair, state, raw, reason = out[-1]
        self._refined.pop(imei, None)
        if self._worth_reading(pair, state, now):
            values = await self._object5(imei)
            if values:
                refined, reason = refine_with_object5(state, reason, values)
                self._refined[imei] = ((pair.uuids, state), refined, reason)
                out[-1] = (pair, refined, raw, reason)
        return out

    def _pairs(
        self,
        imei: str,
        history: list[Command],
        now: datetime,
        known_writes: frozenset[str] | None,
        *,
        reuse: bool = True,
    ) -> list[Row]:
        """The upgrades of one device as its commands show them, the newest one as object 5
        said at the last read of these commands in this state (no request)."""
        writes = self._known_writes() if known_writes is None else known_writes
        pairs = pair_commands(imei, history, gap=self.batch_gap, known_writes=writes)
        out = []
        for pair in pairs:
            state, raw, reason = pair_state(pair, now, self.options.map_status)
            out.append((pair, state, raw, reason))
        if out and reuse:
            pair, state, raw, reason = out[-1]
            kept = self._refined.get(imei)
            if kept is not None and kept[0] == (pair.uuids, state):
                out[-1] = (pair, kept[1], raw, kept[2])
        return out

    async def _cached_rows(
        self, imei: str, now: datetime, start: datetime | None, known_writes: frozenset[str]
    ) -> list[Row]:
        """One device's upgrades from a new read of its history (in full, or from
        ``start`` on); raises ``Contradiction`` when a read disagrees with the cache."""
        horizon = now - timedelta(days=HISTORY_DAYS)
        try:
            if start is None:
                self._cache.replace(imei, await self._history(imei, horizon), now)
            else:
                found = await self._history(imei, max(start, horizon))
                self._cache.merge(imei, found, now, start)
        except ProviderNotFound as exc:
            log.warning("%s: %s", self.name, exc.message)
            return []
        rows = await self._rows(imei, self._cache.commands(imei), now, True, known_writes)
        self._settle(imei, rows, now)
        return rows

    def _settle(self, imei: str, rows: list[Row], now: datetime) -> None:
        open_times = [
            c.create_time
            for pair, state, _, _ in rows
            if not state.terminal
            for c in (pair.write, pair.execute)
            if c is not None and c.create_time is not None
        ]
        self._cache.settle(imei, min(open_times, default=None), now)

    def _worth_reading(self, pair: FotaPair, state: UpgradeState, now: datetime) -> bool:
        """Only an update delivered recently can still be downloading or updating."""
        if self.fota_window is None or state is not UpgradeState.SUCCEEDED or not pair.execute:
            return False
        done = pair.execute.confirm_time or pair.execute.send_time
        return done is not None and now - done <= self.fota_window

    async def _scan(
        self, imeis: Sequence[str] | None = None, start: datetime | None = None
    ) -> Scan:
        imeis = list(imeis) if imeis is not None else await self._imeis()
        if not self._key_ok:
            await self._probe()  # so errno 1 on one IMEI means "not in this product"
        now = await self._platform_now()
        start = start or now - timedelta(days=HISTORY_DAYS)
        per_device = await self._bounded(
            [partial(self._device_pairs, i, start, now, True) for i in imeis]
        )
        return self._assemble(per_device)

    def _assemble(self, per_device: list[list[Row]]) -> Scan:
        rows = [row for rows in per_device for row in rows]
        scan = Scan(pairs=[r[0] for r in rows])
        scan.batches = batches.assign(scan.pairs, self._groups(), self.batch_gap)
        campaign_of: dict[int, batches.Batch] = {i: b for b in scan.batches for i in b.members}
        for i, (pair, state, raw, reason) in enumerate(rows):
            batch = campaign_of.get(i)
            firmware_to = batch.group.firmware_to if batch and batch.group else None
            scan.upgrades.append(
                upgrade(
                    self.name,
                    pair,
                    state,
                    raw,
                    reason,
                    batch.campaign_id if batch else None,
                    firmware_to,
                )
            )
            if batch is not None:
                self._campaign_of.update(dict.fromkeys(pair.uuids, batch.campaign_id))
        return scan

    def _campaigns(self, scan: Scan, only: str | None = None) -> list[Campaign]:
        out = []
        for batch in scan.batches:
            if only is not None and batch.campaign_id != only:
                continue
            if not batch.members and batch.group is not None:
                horizon = self.clock() - timedelta(days=HISTORY_DAYS)
                if batch.group.created_at < horizon:
                    continue
            ups = [scan.upgrades[i] for i in batch.members]
            out.append(batches.campaign_of(self.name, batch, scan.pairs, ups))
        out.sort(key=lambda c: (c.created_at is None, c.created_at), reverse=True)
        return out

    # -- the contract ------------------------------------------------------------------
    async def _full_scan(self) -> Scan:
        """The refresh's one history scan, shared by ``upgrades()`` and ``campaigns()``."""
        return await self._reads.get("scan", self._refresh_scan)

    # -- incremental refresh (history.py) ---------------------------------------------
    async def _refresh_scan(self) -> Scan:
        imeis = await self._imeis()
        if not self._key_ok:
            await self._probe()  # so errno 1 on one IMEI means "not in this product"

        async def incremental() -> Scan:
            if self._reads_platform_clock:
                await self._probe()  # the platform's clock now (the device list may be kept)
            return await self._incremental_scan(imeis, await self._platform_now(), True)

        async def full() -> Scan:
            return await self._incremental_scan(imeis, await self._platform_now(), False)

        return await self._sweeps.read(incremental, full)

    async def _incremental_scan(self, imeis: list[str], now: datetime, incremental: bool) -> Scan:
        """Every device's upgrades: devices where nothing can have changed from the cache
        (no request, a slice at a time so the screen keeps drawing), the rest read."""
        sent = recent_sends(self._groups(), now, batches.GROUP_SLACK)
        writes = self._known_writes()
        per_device: list[list[Row]] = [[] for _ in imeis]
        to_read: list[tuple[int, datetime | None]] = []  # (index, start; None: in full)
        for n, imei in enumerate(imeis):
            start = self._cache.start(imei, now, sent.get(imei)) if incremental else None
            if start is not None or not incremental or not self._cache.knows(imei):
                to_read.append((n, start))
            else:
                rows = self._pairs(imei, self._cache.commands(imei), now, writes)
                self._settle(imei, rows, now)
                per_device[n] = rows
                if n % SLICE == SLICE - 1:
                    await asyncio.sleep(0)
        calls = [partial(self._cached_rows, imeis[n], now, start, writes) for n, start in to_read]
        for (n, _), rows in zip(to_read, await self._bounded(calls), strict=True):
            per_device[n] = rows
        self._cache.keep(imeis, now - timedelta(days=HISTORY_DAYS))
        return self._assemble(per_device)

    def _forget(self) -> None:
        self._reads.forget("scan")  # callers already waiting still get their answer

    async def upgrades(self) -> AsyncIterator[DeviceUpgrade]:
        for item in (await self._full_scan()).upgrades:
            yield item

    async def campaigns(self) -> list[Campaign]:
        return self._campaigns(await self._full_scan())

    async def _scan_for(self, campaign_id: str) -> Scan:
        group = next((g for g in self._groups() if g.campaign_id == campaign_id), None)
        if group is not None:
            return await self._scan(group.device_ids, group.created_at - batches.GROUP_SLACK)
        parsed = batches.parse_batch_id(campaign_id)
        if parsed is None:
            raise ProviderNotFound(self.name, f"no campaign {campaign_id!r}", code="campaign_id")
        return await self._scan(start=parsed[0])

    async def campaign(self, campaign_id: str) -> CampaignDetail:
        scan = await self._scan_for(campaign_id)
        found = self._campaigns(scan, only=campaign_id)
        if not found:
            raise ProviderNotFound(self.name, f"no campaign {campaign_id!r}", code="campaign_id")
        devices = tuple(u for u in scan.upgrades if u.campaign_id == campaign_id)
        return CampaignDetail(campaign=found[0], devices=devices)

    async def device_history(self, device_id: str) -> list[DeviceUpgrade]:
        imei = device_id.strip()
        now = await self._platform_now()
        rows = await self._device_pairs(imei, now - timedelta(days=HISTORY_DAYS), now, True)
        pairs = [r[0] for r in rows]
        local = {
            i: b for b in batches.assign(pairs, self._groups(), self.batch_gap) for i in b.members
        }
        out = []
        for i, (pair, state, raw, reason) in enumerate(rows):
            batch = local.get(i)
            known = next((self._campaign_of[u] for u in pair.uuids if u in self._campaign_of), None)
            campaign_id = known or (batch.campaign_id if batch else None)
            firmware_to = batch.group.firmware_to if batch and batch.group else None
            out.append(upgrade(self.name, pair, state, raw, reason, campaign_id, firmware_to))
        out.sort(key=lambda u: u.created_at or now, reverse=True)
        return out

    async def firmware(self) -> list[Firmware]:
        """OneNET keeps no package list for cached commands: the URIs fota-tui sent."""
        seen: dict[str, Firmware] = {}
        for group in self._groups():
            if group.firmware and group.firmware not in seen:
                seen[group.firmware] = Firmware(
                    provider=self.name,
                    kind=self.kind,
                    firmware_id=group.firmware,
                    name=group.firmware_to or group.firmware.rsplit("/", 1)[-1],
                    version=group.firmware_to,
                    url=group.firmware,
                    protocol="LWM2M",
                    released_at=group.created_at,
                )
        return list(seen.values())

    # -- creating and cancelling ---------------------------------------------------------
    def _window(self, spec: CampaignSpec) -> tuple[datetime | None, datetime]:
        return plan.window(self.name, spec, self.clock())

    def plan_campaign(self, spec: CampaignSpec) -> list[PlannedRequest]:
        if spec.device_groups:
            raise self.unsupported("device groups (address devices by IMEI)")
        if spec.windows:
            raise self.unsupported("time windows for cached commands")
        return plan.requests(self.name, spec, self.options.base_url, self.clock())

    async def _post(self, request: PlannedRequest) -> str:
        path = request.url[len(self.options.base_url.rstrip("/")) :]
        kwargs: dict[str, Any] = {"params": request.params}
        if request.body is not None:
            kwargs["json"] = request.body
        data = await self.call("POST", path, read=False, **kwargs)
        return parse(self.name, Created, data, f"POST {path} data").uuid

    async def _create_one(
        self, write: PlannedRequest, execute: PlannedRequest
    ) -> dict[str, str] | ProviderError:
        imei = str(write.params["imei"])
        try:
            write_uuid = await self._post(write)
        except ProviderError as exc:
            if not isinstance(exc, LOST_ANSWER):
                return exc
            # The answer was lost, not necessarily the write: a stored write without its
            # execute would leave the device with a package URI and no Update command.
            stored = await self._stored_write(imei, write)
            if stored is None:
                return exc  # not visible: the journal holds the device back (unconfirmed)
            write_uuid = stored
            self._recovered[imei] = f"the write's answer was lost ({exc.title}); found it"
        try:
            execute_uuid = await self._post(execute)
            if imei in self._recovered:
                self._recovered[imei] += " and sent its execute once"
        except ProviderError as exc:
            lost = isinstance(exc, LOST_ANSWER)
            stored = await self._stored_execute(imei, write) if lost else None
            if stored is None:
                await self._cancel_quietly(imei, write_uuid)  # a lone write would only download
                self._recovered.pop(imei, None)
                return exc
            execute_uuid = stored
            note = self._recovered.get(imei, "")
            self._recovered[imei] = (note + "; " if note else "") + (
                f"the execute's answer was lost ({exc.title}); found it on the platform"
            )
        return {"write": write_uuid, "execute": execute_uuid}

    async def _stored_execute(self, imei: str, write: PlannedRequest) -> str | None:
        """The execute of a pair whose answer was lost, if the platform stored it: the
        newest EXECUTE with the write's expiry, still live. Its uuid, or None."""
        expiry = parse_beijing(str(write.params["expired_time"]))
        try:
            commands = await self._history(imei, self.clock() - STORED_WRITE_WINDOW)
        except ProviderError as exc:
            log.info("%s: %s: the lost execute could not be looked for: %s", self.name, imei, exc)
            return None
        for cmd in commands:  # newest first
            if cmd.kind == "EXECUTE" and cmd.expired_time == expiry:
                return cmd.cmd_uuid if as_int(cmd.send_status) in (1, 3, 5) else None
        return None

    async def _stored_write(self, imei: str, write: PlannedRequest) -> str | None:
        """The write of ``write`` if the platform stored it although its answer was lost:
        a WRITE with the same expiry that no EXECUTE follows, not cancelled or expired,
        whose detail carries the package URI. Its uuid, or None."""
        expiry = parse_beijing(str(write.params["expired_time"]))
        uri = str(write.body["data"][0]["val"]) if isinstance(write.body, dict) else ""
        try:
            commands = await self._history(imei, self.clock() - STORED_WRITE_WINDOW)
            executes = [c for c in commands if c.kind == "EXECUTE" and c.expired_time == expiry]
            for cmd in commands:  # newest first
                if cmd.kind != "WRITE" or cmd.expired_time != expiry:
                    continue
                if as_int(cmd.send_status) not in (1, 3, 5) or any(
                    e.create_time and cmd.create_time and e.create_time >= cmd.create_time
                    for e in executes
                ):
                    continue
                data = await self._get(f"/nbiot/offline/history/{cmd.cmd_uuid}", {"imei": imei},
                                       imei=imei)  # fmt: skip
                detail = parse(self.name, CommandDetail, data, "GET /nbiot/offline/history/{uuid}")
                if uri and uri in json.dumps([detail.args, detail.content], default=str):
                    return cmd.cmd_uuid
        except ProviderError as exc:
            log.info("%s: %s: the lost write could not be looked for: %s", self.name, imei, exc)
        return None

    async def _cancel_quietly(self, imei: str, uuid: str) -> bool:
        try:
            await self.call(
                "PUT", f"/nbiot/offline/cancel/{uuid}", read=False, params={"imei": imei}
            )
        except ProviderError as exc:
            log.info("%s: command %s of %s not cancelled: %s", self.name, uuid, imei, exc.message)
            return False
        return True

    async def create_campaign(self, spec: CampaignSpec) -> list[Campaign]:
        planned = self.plan_campaign(spec)
        self._forget()
        start, end = self._window(spec)
        steps = list(zip(planned[::2], planned[1::2], strict=True))
        # The first device alone: its write is the batch's first command (the id).
        results = [await self._create_one(*steps[0])]
        results += await self._bounded([partial(self._create_one, *s) for s in steps[1:]])
        self._forget()  # a scan that ran during the sends may have missed them
        commands: dict[str, dict[str, str]] = {}
        failed: dict[str, str] = {}
        errors: list[ProviderError] = []
        for (write, _), result in zip(steps, results, strict=True):
            imei = str(write.params["imei"])
            if isinstance(result, ProviderError):
                failed[imei] = str(result)
                errors.append(result)
            else:
                commands[imei] = result
        if not commands:
            raise errors[0]
        first_imei = next(iter(commands))
        created = await self._created_at(first_imei, commands[first_imei]["write"])
        campaign_id = batches.batch_id(created, parse_beijing(to_beijing(end)))
        for refs in commands.values():
            self._campaign_of.update(dict.fromkeys(refs.values(), campaign_id))
        pending = start is not None and start > self.clock()
        state = UpgradeState.PENDING if pending else UpgradeState.QUEUED
        reason = f"{len(commands)} device(s) queued as cached commands"
        recovered = {i: self._recovered.pop(i) for i in list(self._recovered) if i in commands}
        if recovered:
            reason += f"; {len(recovered)} write answer(s) lost, found and finished"
        if failed:
            reason += f"; {len(failed)} failed: {next(iter(failed.values()))}"
        return [
            Campaign(
                provider=self.name,
                kind=self.kind,
                campaign_id=campaign_id,
                name=spec.name or f"Cached commands {to_beijing(created).replace('T', ' ')[:16]}",
                state=CampaignState(state.value),
                provider_status_raw={
                    "commands": commands,
                    "failed": failed,
                    "recovered": recovered,
                },
                provider_reason=reason,
                firmware_name=spec.firmware,
                firmware_from=spec.firmware_from,
                firmware_to=spec.firmware_to,
                counts={state: len(commands)},
                total=len(commands),
                created_at=created,
                start_at=start,
                end_at=end,
                local=True,
            )
        ]

    async def _created_at(self, imei: str, uuid: str) -> datetime:
        """The platform's create_time of a command (the batch id uses the platform clock)."""
        try:
            data = await self._get(f"/nbiot/offline/history/{uuid}", {"imei": imei}, imei=imei)
            detail = parse(self.name, CommandDetail, data, "GET /nbiot/offline/history/{uuid}")
            if detail.create_time is not None:
                return detail.create_time
        except ProviderError as exc:
            log.info(
                "%s: create time of %s unknown (%s); using the local clock",
                self.name,
                uuid,
                exc.message,
            )
        return self.clock().replace(microsecond=0)

    async def cancel_campaign(self, campaign_id: str) -> Campaign:
        scan = await self._scan_for(campaign_id)
        members = [i for i, u in enumerate(scan.upgrades) if u.campaign_id == campaign_id]
        if not members and not self._campaigns(scan, only=campaign_id):
            raise ProviderNotFound(self.name, f"no campaign {campaign_id!r}", code="campaign_id")
        now = self.clock()

        async def cancel(pair: FotaPair) -> tuple[int, bool]:
            """(commands cancelled, whether something could not be cancelled)."""
            done, stuck = 0, False
            for cmd in (pair.write, pair.execute):
                if cmd is None:
                    continue
                state, _ = command_state(cmd, now)
                if state in (UpgradeState.PENDING, UpgradeState.QUEUED):
                    if await self._cancel_quietly(pair.imei, cmd.cmd_uuid):
                        done += 1
                    else:
                        stuck = True
                elif not state.terminal:
                    stuck = True
            return done, stuck

        self._forget()
        results = await self._bounded([partial(cancel, scan.pairs[i]) for i in members])
        self._forget()
        cancelled = sum(r[0] for r in results)
        stuck = sum(1 for r in results if r[1])
        devices = {scan.pairs[i].imei for i in members}
        after = self._campaigns(await self._scan_for(campaign_id), only=campaign_id)
        reason = f"cancelled {cancelled} waiting command(s) on {len(devices)} device(s)"
        if stuck:
            reason += f"; {stuck} device(s) could not be cancelled (already sent to the device)"
        if not after:
            raise ProviderNotFound(self.name, f"no campaign {campaign_id!r}", code="campaign_id")
        return after[0].model_copy(update={"provider_reason": reason})
