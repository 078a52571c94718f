"""Verizon ThingSpace Software Management adapter: FOTA v3 campaigns and v1 upgrades.

Written from docs/platforms/thingspace.md (the vendor SDK and docs), not from the simulator:

- Auth: ``ThingSpaceAuth`` (OAuth client credentials + M2M session, single-flight, lockout-safe).
- Base URL: the API root (``https://thingspace.verizon.com/api``); a host-only URL gets
  ``/api`` appended. Paths: ``/fota/v1``, ``/fota/v3``, ``/ts/v1``, ``/m2m/v1``.
- Errors: HTTP 400 ``{errorCode, errorMessage}``; codes ending in ``NotFound`` →
  ``ProviderNotFound``, token/session answers → ``ProviderAuthError``, 429 → rate limited.
- Paging: cursors only, so each listing is sequential; different listings (statuses,
  campaigns, devices) run concurrently under one gate of ``concurrency`` (default 16: a
  refresh has 17 independent listings after login, so the device cursor chain does not
  queue behind the campaign listings). No rate limit is published; 429 + Retry-After is
  honoured. The HTTP pool holds at least ``concurrency`` connections.
- Campaigns: v3 has no "all" filter, so every status is listed (both ``CampaignRequestQueued``
  and ``CampaignQueued``; a refused example-only status is noted once and dropped) and
  de-duplicated. v1 upgrades come from the six report statuses (cancelled ones leave the
  reports). Ids are the platform's UUIDs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr

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
    Campaign,
    CampaignDetail,
    CampaignSpec,
    Capabilities,
    Device,
    DeviceUpgrade,
    Firmware,
    ProviderKind,
    UpgradeState,
    state_counts,
    utcnow,
)
from fota_tui.providers.adapter import HttpAdapter
from fota_tui.providers.base import GroupSource, PlannedRequest
from fota_tui.providers.http import (
    REDACTED,
    ClientOptions,
    PageGuard,
    damaged_error,
    loads_or_none,
    parse_json,
    path_segment,
    retry_after_seconds,
)
from fota_tui.providers.incremental import Finished, Listing, SweepReporting, Sweeps
from fota_tui.providers.platform import option_help
from fota_tui.providers.thingspace import normalize as norm
from fota_tui.providers.thingspace import rules
from fota_tui.providers.thingspace.auth import ThingSpaceAuth, auth_problem
from fota_tui.providers.thingspace.normalize import DeviceChange
from fota_tui.providers.thingspace.wire import (
    ChangeAnswer,
    ErrorAnswer,
    V1DevicePage,
    V1Firmware,
    V1History,
    V1Report,
    V1Upgrade,
    V3Campaign,
    V3CampaignPage,
    V3DevicePage,
    V3Firmware,
    V3History,
    parse,
)

# The listing filter values of the vendor's ``CampaignStatusEnum`` (SDK models) ...
SCHEMA_STATUSES = (
    "CampaignRequestPending",
    "CampaignRequestQueued",
    "CampaignScheduled",
    "CampaignEnded",
    "CampaignCancelled",
    "CampaignAborted",
    "CampaignFailed",
    "CampaignRequestFailed",
)
# ... and two seen only in the vendor's examples and lifecycle page: asked too, dropped for
# the rest of the run when the platform refuses them (docs/platforms/thingspace.md).
EXAMPLE_STATUSES = ("CampaignQueued", "CampaignPreScheduled")
V3_STATUSES = SCHEMA_STATUSES + EXAMPLE_STATUSES
# Campaigns in these states are over: their device reports no longer change.
V3_FINISHED = frozenset(
    s.lower()
    for s in (
        "CampaignEnded",
        "CampaignCancelled",
        "CampaignAborted",
        "CampaignFailed",
        "CampaignRequestFailed",
    )
)
V1_STATUSES = ("RequestPending", "Queued", "RequestFailed", "InProgress", "Finished",
               "UpgradeFailed")  # fmt: skip
API_VERSIONS = ("v3", "v1", "both")
Snapshot = tuple[list[tuple[V3Campaign, list[DeviceUpgrade]]], list[V1Upgrade]]
DEFAULT_DURATION = timedelta(days=7)


P = ParamSpec("P")
R = TypeVar("R")


def one_call(
    method: Callable[Concatenate[ThingSpaceClient, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[ThingSpaceClient, P], Coroutine[Any, Any, R]]:
    """All requests of one adapter method count as one call for login-failure sharing."""

    @functools.wraps(method)
    async def wrapper(self: ThingSpaceClient, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.auth.call():
            return await method(self, *args, **kwargs)

    return wrapper


def api_root(base_url: str) -> str:
    root = base_url.rstrip("/")
    return root if root.endswith("/api") else f"{root}/api"


class ThingSpaceClient(SweepReporting, HttpAdapter):
    kind = ProviderKind.THINGSPACE
    capabilities: ClassVar[Capabilities] = Capabilities(
        cancel_campaign=True, abort_campaign=True, add_remove_devices=True, time_windows=True
    )
    CAMPAIGN_OPTIONS: ClassVar[dict[str, str]] = option_help(rules.OPTIONS)

    def __init__(
        self,
        options: ClientOptions,
        *,
        account: str,
        app_key: str,
        app_secret: SecretStr,
        username: str,
        password: SecretStr,
        api_version: str = "both",
        groups: GroupSource | None = None,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 16,
    ) -> None:
        if api_version not in API_VERSIONS:
            raise ConfigError(
                f"expected one of {', '.join(API_VERSIONS)}, got {api_version!r}", key="api_version"
            )
        super().__init__(options)
        self.account = account
        self.api_version = api_version
        self.groups = groups  # unused: ThingSpace has native campaign ids
        self.api_root = api_root(options.base_url)
        self.auth = ThingSpaceAuth(
            provider=self.name,
            api_root=self.api_root,
            app_key=app_key,
            app_secret=app_secret,
            username=username,
            password=password,
            monotonic=options.monotonic,
        )
        self._clock = clock
        self.concurrency = max(1, concurrency)
        self._gate = asyncio.Semaphore(self.concurrency)
        self._api_of: dict[str, str] = {}  # campaign id → "v1" | "v3"
        self._catalog: dict[str, Firmware] = {}
        self._inflight: asyncio.Future[Snapshot] | None = None
        self._refused_statuses: set[str] = set()  # example-only filter values refused
        # Between refreshes: an ended campaign's devices are read once (until it is
        # listed changed, or a sweep), the device list on its own cadence.
        self._sweeps = Sweeps(options)
        self._ended: Finished[list[DeviceUpgrade]] = Finished()
        self._device_list: Listing[Device] = Listing(options, self._sweeps)
        self._acc = quote(account, safe="")

    @property
    def _v3(self) -> bool:
        return self.api_version in ("v3", "both")

    @property
    def _v1(self) -> bool:
        return self.api_version in ("v1", "both")

    def _build_client(self) -> httpx.AsyncClient:
        options = replace(self.options, base_url=self.api_root)
        return options.build_client(auth=self.auth, concurrency=self.concurrency)

    # -- envelope ----------------------------------------------------------------
    def _decode(self, response: httpx.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            return parse_json(self.name, response) if response.content.strip() else None
        answer = _error_answer(response)
        code, text = answer.code, answer.message or response.reason_phrase or f"HTTP {status}"
        label = f"[{code}] {text}" if code else text
        if status == 429:
            retry = retry_after_seconds(response.headers.get("retry-after"))
            raise ProviderRateLimited(self.name, f"rate limited: {text}", retry_after=retry)
        if status == 401 or auth_problem(response):
            raise ProviderAuthError(self.name, f"not authorised {label}")
        if status == 404 or (code or "").lower().endswith("notfound"):
            raise ProviderNotFound(self.name, text, code=code, status=status)
        if status >= 500 or status == 408:
            raise ProviderUnavailable(self.name, f"HTTP {status}: {text}")
        raise damaged_error(self.name, response) or ProviderRejected(
            self.name, text, code=code, status=status
        )

    async def _get(self, path: str, what: str, shape: Any, **params: str) -> Any:
        async with self._gate:
            data = await self.call("GET", path, params=params or None)
        return parse(self.name, shape, data, what)

    async def _write(self, method: str, path: str, what: str, shape: Any, body: Any) -> Any:
        async with self._gate:
            data = await self.call(method, path, read=False, json=body)
        return parse(self.name, shape, data, what)

    @one_call
    async def _probe(self) -> None:
        if self._v3:
            await self._get(f"/fota/v3/firmware/{self._acc}", "firmware", list[V3Firmware],
                            protocol="LWM2M")  # fmt: skip
        else:
            await self._get(f"/fota/v1/firmware/{self._acc}", "firmware", list[V1Firmware])

    # -- cursor pagers -------------------------------------------------------------
    def _guard(self, what: str) -> PageGuard:
        return PageGuard(self.name, what, self.options.max_pages)

    @staticmethod
    def _next(
        what: str, provider: str, cursor: str | None, seen: PageGuard, ids: Iterable[Any]
    ) -> str:
        """The next cursor: present, and neither it nor the page's records seen before in
        this listing (a pager that cycles or serves one page for ever), within the cap."""
        if not cursor:
            raise ProviderProtocolError(
                provider, f"{what}: more pages announced but no new cursor ({cursor!r})"
            )
        seen.page(cursor, tuple(ids))
        return cursor

    async def _v1_report(self, status: str) -> list[V1Upgrade]:
        what, start, out = f"v1 upgrades {status}", "0", []
        seen = self._guard(what)
        seen.page(start)
        while True:
            path = f"/fota/v1/reports/{self._acc}/status/{status}/index/{path_segment(self.name, start)}"
            page: V1Report = await self._get(path, what, V1Report)
            out.extend(page.reportList)
            if not page.hasMoreFlag:
                return out
            start = self._next(what, self.name, page.cursor, seen, (u.id for u in page.reportList))

    async def devices(self) -> AsyncIterator[Device]:
        for device in await self._device_list.get(self._list_devices):
            yield device

    async def _list_devices(self) -> list[Device]:
        return [device async for device in self._device_pages()]

    async def _device_pages(self) -> AsyncIterator[Device]:
        what, start = "v1 devices", "0"
        seen = self._guard(what)
        seen.page(start)
        while True:
            with self.auth.call():
                page: V1DevicePage = await self._get(
                    f"/fota/v1/devices/{self._acc}/index/{path_segment(self.name, start)}",
                    what,
                    V1DevicePage,
                )
            for item in page.deviceList:
                yield norm.device(self.name, item)
            if not page.hasMoreData:
                return
            ids = (d.deviceId for d in page.deviceList)
            start = self._next(what, self.name, page.lastSeenDeviceId, seen, ids)

    async def _v3_by_status(self, status: str) -> list[V3Campaign]:
        what = f"v3 campaigns {status}"
        seen = self._guard(what)
        out: list[V3Campaign] = []
        params = {"campaignStatus": status}
        while True:
            try:
                page: V3CampaignPage = await self._get(
                    f"/fota/v3/reports/{self._acc}/firmware/campaigns", what, V3CampaignPage,
                    **params,
                )  # fmt: skip
            except ProviderRejected as exc:
                if status not in EXAMPLE_STATUSES or out:
                    raise
                self._refused_statuses.add(status)
                self.note(
                    f"campaignStatus={status} refused ({exc.message}); not asked again this run"
                )
                return []
            out.extend(page.campaignList)
            if not page.hasMoreData:
                return out
            params["lastSeenCampaignId"] = self._next(
                what, self.name, page.lastSeenCampaignId, seen, (c.id for c in page.campaignList)
            )

    async def _v3_devices(self, campaign: V3Campaign) -> list[DeviceUpgrade]:
        what = f"v3 campaign {campaign.id} devices"
        seen = self._guard(what)
        out: list[DeviceUpgrade] = []
        path = (
            f"/fota/v3/reports/{self._acc}/campaigns/{path_segment(self.name, campaign.id)}/devices"
        )
        params: dict[str, str] = {}
        while True:
            page: V3DevicePage = await self._get(path, what, V3DevicePage, **params)
            out.extend(
                norm.v3_upgrade(self.name, campaign, d, self.options) for d in page.deviceList
            )
            if not page.hasMoreData:
                return out
            params["lastSeenDeviceId"] = self._next(
                what, self.name, page.lastSeenDeviceId, seen, (d.deviceId for d in page.deviceList)
            )

    # -- listings ------------------------------------------------------------------
    async def _v3_campaigns(self) -> list[V3Campaign]:
        statuses = [s for s in V3_STATUSES if s not in self._refused_statuses]
        pages = await _gather(self._v3_by_status(s) for s in statuses)
        unique = {c.id: c for page in pages for c in page}
        self._api_of.update(dict.fromkeys(unique, "v3"))
        return list(unique.values())

    async def _v1_upgrades(self) -> list[V1Upgrade]:
        pages = await _gather(self._v1_report(s) for s in V1_STATUSES)
        unique = {u.id: u for page in pages for u in page}
        self._api_of.update(dict.fromkeys(unique, "v1"))
        return list(unique.values())

    async def _snapshot(self) -> Snapshot:
        """Campaigns with their devices. Concurrent callers (``upgrades()`` and
        ``campaigns()`` in one refresh) share one read instead of repeating it."""
        task = self._inflight
        if task is None:
            task = asyncio.ensure_future(self._read_snapshot())
            self._inflight = task
            task.add_done_callback(self._snapshot_done)
        return await asyncio.shield(task)

    def _snapshot_done(self, task: asyncio.Future[Snapshot]) -> None:
        if self._inflight is task:
            self._inflight = None
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not reported twice

    async def _read_snapshot(self) -> Snapshot:
        sweep = self._sweeps.due()

        async def devices_of(c: V3Campaign) -> list[DeviceUpgrade]:
            finished = (c.status or "").lower() in V3_FINISHED
            if finished and sweep is None and (kept := self._ended.get(c.id, c)) is not None:
                return kept
            found = await self._v3_devices(c)
            if finished:
                self._ended.put(c.id, c, found)
            return found

        async def v3_part() -> list[tuple[V3Campaign, list[DeviceUpgrade]]]:
            campaigns = await self._v3_campaigns() if self._v3 else []
            details = await _gather(devices_of(c) for c in campaigns)
            self._ended.keep_only({c.id for c in campaigns})
            return list(zip(campaigns, details, strict=True))

        async def v1_part() -> list[V1Upgrade]:
            return await self._v1_upgrades() if self._v1 else []

        v3, v1 = await asyncio.gather(v3_part(), v1_part())
        if sweep is not None:
            self._sweeps.done(sweep)
        return v3, v1

    async def upgrades(self) -> AsyncIterator[DeviceUpgrade]:
        with self.auth.call():
            v3, v1 = await self._snapshot()
        for _, devices in v3:
            for record in devices:
                yield record
        for upgrade in v1:
            for record in norm.v1_upgrades(self.name, upgrade, self.options):
                yield record

    @one_call
    async def campaigns(self) -> list[Campaign]:
        v3, v1 = await self._snapshot()
        out = [norm.v3_campaign(self.name, c, devices, self.options) for c, devices in v3]
        for u in v1:
            devices = norm.v1_upgrades(self.name, u, self.options)
            out.append(norm.v1_campaign(self.name, u, devices, self.options))
        return out

    async def _locate(self, campaign_id: str) -> tuple[str, V3Campaign | V1Upgrade]:
        """Fetch one campaign (v3) or upgrade (v1); the API is remembered from listings."""
        cid = path_segment(self.name, campaign_id)
        known = self._api_of.get(campaign_id)
        order = [known] if known else [a for a in ("v3", "v1") if getattr(self, f"_{a}")]
        errors: list[ProviderRejected] = []
        for api in order:
            try:
                shape: Any = V3Campaign if api == "v3" else V1Upgrade
                path = (
                    f"/fota/v3/campaigns/{self._acc}/{cid}"
                    if api == "v3"
                    else f"/fota/v1/upgrades/{self._acc}/upgrade/{cid}"
                )
                found = await self._get(path, f"{api} campaign {campaign_id}", shape)
            except ProviderRejected as exc:  # includes not found
                errors.append(exc)
                continue
            self._api_of[campaign_id] = api
            return api, found
        if len(errors) == 1:
            raise errors[0]
        raise ProviderNotFound(
            self.name,
            f"campaign {campaign_id} not found ({'; '.join(e.message for e in errors)})",
            code=errors[0].code if errors else None,
        )

    @one_call
    async def campaign(self, campaign_id: str) -> CampaignDetail:
        _, found = await self._locate(campaign_id)
        if isinstance(found, V3Campaign):
            devices = await self._v3_devices(found)
            summary = norm.v3_campaign(self.name, found, devices, self.options)
        else:
            devices = norm.v1_upgrades(self.name, found, self.options)
            summary = norm.v1_campaign(self.name, found, devices, self.options)
        return CampaignDetail(campaign=summary, devices=tuple(devices))

    @one_call
    async def device_history(self, device_id: str) -> list[DeviceUpgrade]:
        did = path_segment(self.name, device_id)
        calls: list[Awaitable[list[DeviceUpgrade]]] = []
        if self._v3:
            calls.append(self._history(f"/fota/v3/reports/{self._acc}/devices/{did}", V3History))
        if self._v1:
            calls.append(self._history(f"/fota/v1/reports/{self._acc}/devices/{did}", V1History))
        results = await asyncio.gather(*calls, return_exceptions=True)
        records: list[DeviceUpgrade] = []
        missing: list[ProviderNotFound] = []
        for result in results:
            if isinstance(result, ProviderNotFound):
                missing.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                records.extend(result)
        if missing and len(missing) == len(results):
            raise missing[0]
        return norm.newest_first(records)

    async def _history(self, path: str, shape: Any) -> list[DeviceUpgrade]:
        rows = await self._get(path, "device history", list[shape])
        if shape is V3History:
            return [norm.v3_history(self.name, row, self.options) for row in rows]
        return [norm.v1_history(self.name, row, self.options) for row in rows]

    @one_call
    async def firmware(self) -> list[Firmware]:
        calls: list[Awaitable[list[Firmware]]] = []
        if self._v3:
            calls.append(self._firmware_v3())
        if self._v1:
            calls.append(self._firmware_v1())
        merged: dict[str, Firmware] = {}
        for images in await asyncio.gather(*calls):
            for image in images:
                merged.setdefault(image.firmware_id, image)
        self._catalog = merged
        return list(merged.values())

    async def _firmware_v3(self) -> list[Firmware]:
        rows = await self._get(f"/fota/v3/firmware/{self._acc}", "v3 firmware", list[V3Firmware],
                               protocol="all")  # fmt: skip
        return [norm.firmware_v3(self.name, r) for r in rows]

    async def _firmware_v1(self) -> list[Firmware]:
        rows = await self._get(f"/fota/v1/firmware/{self._acc}", "v1 firmware", list[V1Firmware])
        return [norm.firmware_v1(self.name, r) for r in rows]

    # -- writes ----------------------------------------------------------------------
    def _reject(self, message: str, field: str) -> ProviderRejected:
        return ProviderRejected(self.name, message, code="InvalidSpec", field=field)

    def _options(self, spec: CampaignSpec) -> dict[str, Any]:
        opts = {"api": "v3", "protocol": "LWM2M", "auto_assign_license": False,
                "auto_add_devices": False}  # fmt: skip
        for key, value in spec.options.items():
            if key not in opts:
                known = ", ".join(self.CAMPAIGN_OPTIONS)
                raise self._reject(f"unknown option {key!r}; expected {known}", f"options.{key}")
            if isinstance(opts[key], bool) and not isinstance(value, bool):
                raise self._reject(f"{key} must be true or false", f"options.{key}")
            opts[key] = value
        if opts["api"] not in ("v3", "v1"):
            raise self._reject('api must be "v3" or "v1"', "options.api")
        protocol = str(opts["protocol"]).upper()
        if protocol not in ("LWM2M", "OMA-DM"):
            raise self._reject('protocol must be "LWM2M" or "OMA-DM"', "options.protocol")
        opts["protocol"] = protocol
        return opts

    def plan_campaign(self, spec: CampaignSpec) -> list[PlannedRequest]:
        opts = self._options(spec)
        if spec.device_groups:
            raise self._reject("ThingSpace has no device groups; list the IMEIs", "device_groups")
        if not spec.devices:
            raise self._reject("at least one device IMEI is required (deviceList)", "devices")
        start = (spec.start_at or self._clock()).astimezone(UTC)
        end = spec.end_at.astimezone(UTC) if spec.end_at else start + DEFAULT_DURATION
        known = self._catalog.get(spec.firmware)
        fw_to = spec.firmware_to or (known.version if known else None)
        fw_from = spec.firmware_from or (known.from_version if known else None)
        if not fw_to:
            raise self._reject("firmware_to (firmwareTo) is required", "firmware_to")
        note = f"headers: Authorization: Bearer {REDACTED}; VZ-M2M-Token: {REDACTED}"
        if opts["api"] == "v1":
            if spec.windows:
                raise self._reject("FOTA v1 upgrades have no time windows; use v3", "windows")
            body: dict[str, Any] = {
                "accountName": self.account,
                "firmwareName": spec.firmware,
                "firmwareTo": fw_to,
                "startDate": start.date().isoformat(),
                "endDate": end.date().isoformat(),
                "deviceList": list(spec.devices),
            }
            url = f"{self.api_root}/fota/v1/upgrades"
            return [PlannedRequest("POST", url, body=body, note=f"{note} (v1 has no name)")]
        if not fw_from:
            raise self._reject("firmware_from (firmwareFrom) is required", "firmware_from")
        body = {"campaignName": spec.name} if spec.name else {}
        body |= {
            "firmwareName": spec.firmware,
            "firmwareFrom": fw_from,
            "firmwareTo": fw_to,
            "protocol": opts["protocol"],
            "startDate": start.date().isoformat(),
            "endDate": end.date().isoformat(),
        }
        if spec.windows:
            body["campaignTimeWindowList"] = [
                {"startTime": s, "endTime": e} for s, e in spec.windows
            ]
        body |= {
            "deviceList": list(spec.devices),
            "autoAssignLicenseFlag": opts["auto_assign_license"],
            "autoAddDevicesFlag": opts["auto_add_devices"],
        }
        url = f"{self.api_root}/fota/v3/campaigns/firmware/{self._acc}"
        return [PlannedRequest("POST", url, body=body, note=note)]

    @one_call
    async def create_campaign(self, spec: CampaignSpec) -> list[Campaign]:
        if spec.firmware not in self._catalog and not (spec.firmware_to and spec.firmware_from):
            await self.firmware()  # fill firmwareFrom/firmwareTo from the catalogue
        plan = self.plan_campaign(spec)[0]
        path = plan.url[len(self.api_root) :]
        pending = state_counts([UpgradeState.PENDING] * len(spec.devices))
        if path.startswith("/fota/v3"):
            created: V3Campaign = await self._write("POST", path, "create campaign", V3Campaign,
                                                    plan.body)  # fmt: skip
            self._api_of[created.id] = "v3"
            campaign = norm.v3_campaign(self.name, created, None, self.options)
            return [campaign.model_copy(update={"counts": pending, "total": len(spec.devices)})]
        upgrade: V1Upgrade = await self._write("POST", path, "create upgrade", V1Upgrade, plan.body)
        self._api_of[upgrade.id] = "v1"
        devices = norm.v1_upgrades(self.name, upgrade, self.options)
        return [norm.v1_campaign(self.name, upgrade, devices, self.options)]

    @one_call
    async def cancel_campaign(self, campaign_id: str) -> Campaign:
        """Cancel before start (``CampaignCancelled``) or abort after (``CampaignAborted``)."""
        api, _ = await self._locate(campaign_id)
        cid = path_segment(self.name, campaign_id)
        if api == "v3":
            path = f"/fota/v3/campaigns/{self._acc}/{cid}"
        else:
            path = f"/fota/v1/upgrades/{self._acc}/upgrade/{cid}"
        async with self._gate:
            await self.call("DELETE", path, read=False)
        return (await self.campaign(campaign_id)).campaign

    async def add_devices(self, campaign_id: str, device_ids: Sequence[str]) -> list[DeviceChange]:
        return await self._change(campaign_id, "append", device_ids)

    async def remove_devices(
        self, campaign_id: str, device_ids: Sequence[str]
    ) -> list[DeviceChange]:
        return await self._change(campaign_id, "remove", device_ids)

    @one_call
    async def _change(self, campaign_id: str, kind: str, ids: Sequence[str]) -> list[DeviceChange]:
        api, _ = await self._locate(campaign_id)
        cid = path_segment(self.name, campaign_id)
        if api == "v3":  # capital "Type" in v3, lower-case "type" in v1
            path, body = f"/fota/v3/campaigns/firmware/{self._acc}/{cid}", {"Type": kind}
        else:
            path, body = f"/fota/v1/upgrades/{self._acc}/upgrade/{cid}", {"type": kind}
        body["deviceList"] = list(ids)  # type: ignore[assignment]
        answer: ChangeAnswer = await self._write("PUT", path, f"{kind} devices", ChangeAnswer, body)
        return [norm.device_change(item) for item in answer.deviceList]

    async def aclose(self) -> None:
        """End the M2M session (best effort), then close the HTTP client."""
        client, oauth, session = self._client, self.auth.oauth_token, self.auth.session
        if client is not None and oauth and session:
            # UnicodeEncodeError: a session token that is not ASCII cannot be a header
            with contextlib.suppress(httpx.HTTPError, ProviderError, UnicodeEncodeError):
                await client.post(
                    "/m2m/v1/session/logout",
                    headers={"Authorization": f"Bearer {oauth}", "VZ-M2M-Token": session},
                    auth=httpx.Auth(),  # no login just to log out
                    timeout=2.0,
                )
            self.auth.session = None
        await super().aclose()


def _error_answer(response: httpx.Response) -> ErrorAnswer:
    body = loads_or_none(response.content)
    try:
        return ErrorAnswer.model_validate(body) if isinstance(body, dict) else ErrorAnswer()
    except ValueError:  # a pydantic ValidationError
        return ErrorAnswer()


async def _gather(calls: Any) -> list[Any]:
    return list(await asyncio.gather(*calls))
