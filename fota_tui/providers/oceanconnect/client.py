"""The Huawei OceanConnect adapter (IOCM auth/devices, IODM northbound v1.5.0 upgrades).

Written from docs/platforms/oceanconnect.md and seed 004. Every call carries ``app_key`` and
``Authorization: Bearer`` (see ``auth.py``). Paging is 0-based ``pageNo``/``pageSize``
with ``totalCount``; later pages are fetched ``page_concurrency`` at a time. A client-side
limiter keeps every call (logins and re-sends included) under the platform's 100 calls /
60 s per app (``options.rate_limit_per_minute``), whatever is in flight, and a 403
``1010009`` becomes ``ProviderRateLimited``. Errors arrive as ``{"error_code",
"error_desc"}`` (shape inferred). v1.5.0 has no stop/cancel for tasks.

One refresh (``campaigns()`` and ``upgrades()`` at once) reads the task list and the
package list once: callers share a read while it runs (see ``providers.sharing``);
every refresh reads again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
)
from contextlib import aclosing
from functools import partial
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import SecretStr

from fota_tui.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
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
)
from fota_tui.providers import http as plumbing
from fota_tui.providers.adapter import HttpAdapter
from fota_tui.providers.base import GroupSource, PlannedRequest
from fota_tui.providers.http import (
    ClientOptions,
    PageGuard,
    RateLimiter,
    loads_or_none,
    parse_json,
    path_segment,
)
from fota_tui.providers.incremental import Finished, Listing, SweepReporting, Sweeps
from fota_tui.providers.oceanconnect import normalize
from fota_tui.providers.oceanconnect.auth import OceanConnectAuth
from fota_tui.providers.oceanconnect.plan import IODM, TaskRequest, task_requests
from fota_tui.providers.oceanconnect.wire import (
    CategoryPage,
    CreateTaskResponse,
    DevicePage,
    ErrorBody,
    GroupPage,
    MemberPage,
    OperationInfo,
    OperationPage,
    Page,
    SubOperationInfo,
    SubOperationPage,
    TokenResponse,
    load,
)
from fota_tui.providers.sharing import SharedReads

LOGIN = "/iocm/app/sec/v1.1.0/login"
REFRESH = "/iocm/app/sec/v1.1.0/refreshToken"
DEVICES = "/iocm/app/dm/v1.4.0/devices"
CATEGORY = f"{IODM}/category"
OPERATIONS = f"{IODM}/operations"
GROUPS = "/iocm/app/devgroup/v1.3.0/devGroups"
MEMBERS = "/iocm/app/dm/v1.2.0/devices/ids"
DEFAULT_RATE_LIMIT = 100  # calls / 60 s per app, the platform default

THROTTLED = "1010009"
AUTH_CODES = frozenset({"100208", "100247", "102202", "100217", "100220", "1010005"})
NOT_FOUND_CODES = frozenset({"123002", "123009", "100403"})
# Create-task codes (seed 004) → the request field at fault.
FIELDS = {
    "120015": "fileId",
    "123016": "fileId",
    "123002": "fileId",
    "123019": "targets.manufacturerName",
    "123020": "targets.deviceType",
    "123021": "targets.model",
    "123022": "targets",
    "123023": "targets",
    "123024": "targets",
    "123025": "policy.executeType",
    "123026": "policy.startTime",
    "123028": "policy.retryTimes",
    "123029": "pageSize",
    "123032": "policy.startTime",
    "123033": "policy.startTime",
    "123034": "policy.endTime",
}

PageT = TypeVar("PageT", bound=Page)
T = TypeVar("T")


def page_count(total: int, size: int) -> int:
    """Pages holding ``total`` records (an integer ceiling: totals may be huge)."""
    return max(0, -(-total // size))


class WindowLimiter(RateLimiter):
    """The shared sliding-window limiter, plus when its window next frees a slot."""

    def wait_time(self) -> float:
        now = self._monotonic()
        self._trim(now)
        if not self._stamps:
            return self.period
        return max(self.period - (now - self._stamps[0]), 1.0)


class OceanConnectClient(SweepReporting, HttpAdapter):
    kind: ClassVar[ProviderKind] = ProviderKind.OCEANCONNECT
    capabilities: ClassVar[Capabilities] = Capabilities(
        cancel_campaign=False,
        device_groups=True,
        max_targets_per_campaign=256,
        rate_limit_per_minute=DEFAULT_RATE_LIMIT,
        campaign_names=False,  # a task has no name field: it is named by its type and package
        lists_firmware_handle=False,  # tasks name the package; a spec holds its fileId
    )
    page_concurrency = 10  # pages in flight per listing; the limiter still paces every call
    device_page_size = 250
    task_page_size = 100

    def __init__(
        self,
        options: ClientOptions,
        *,
        app_id: str,
        secret: SecretStr,
        groups: GroupSource | None = None,
    ) -> None:
        if options.rate_limit_per_minute is None:
            options = dataclasses.replace(options, rate_limit_per_minute=DEFAULT_RATE_LIMIT)
        super().__init__(options)
        self.limiter: WindowLimiter = WindowLimiter(
            options.rate_limit_per_minute or DEFAULT_RATE_LIMIT,
            60.0,
            monotonic=options.monotonic,
            sleep=options.sleep,
        )
        self.app_id = app_id
        self._secret = secret
        self.groups = groups  # unused: OceanConnect returns native task ids
        self.auth = OceanConnectAuth(
            self._token_request, monotonic=options.monotonic, before_resend=self.limiter.acquire
        )
        self._reads = SharedReads()  # one read of each listing per refresh
        # Between refreshes: a finished task's subtasks are read once (until it is listed
        # changed, or a sweep), the device list on its own cadence.
        self._sweeps = Sweeps(options)
        self._ended: Finished[list[SubOperationInfo]] = Finished()
        self._device_list: Listing[Device] = Listing(options, self._sweeps)

    def __repr__(self) -> str:
        return f"OceanConnectClient(name={self.name!r}, app_id={self.app_id!r})"

    def _build_client(self) -> httpx.AsyncClient:
        return self.options.build_client(
            auth=self.auth, concurrency=self.page_concurrency, app_key=self.app_id
        )

    # -- one read per refresh --------------------------------------------------------
    async def _refresh_lists(self) -> tuple[dict[str, Firmware], list[OperationInfo]]:
        """The package list and the task list, each read once per refresh."""
        packages, tasks = await asyncio.gather(
            self._reads.get("packages", self._packages), self._reads.get("tasks", self._task_list)
        )
        return packages, tasks

    async def aclose(self) -> None:
        self._reads.close()
        await super().aclose()

    # -- auth --------------------------------------------------------------------
    async def _token_request(self, refresh_token: str | None) -> TokenResponse:
        """Login (form body) or refresh (JSON body); sent without the auth flow."""
        secret = self._secret.get_secret_value()
        if refresh_token is None:
            response = await self._send(
                "POST", LOGIN, data={"appId": self.app_id, "secret": secret}, auth=None
            )
        else:
            body = {"appId": self.app_id, "secret": secret, "refreshToken": refresh_token}
            response = await self._send("POST", REFRESH, json=body, auth=None)
        return load(self.name, TokenResponse, self._decode(response), "token answer")

    # -- envelope ----------------------------------------------------------------
    def _decode(self, response: httpx.Response) -> Any:
        if response.status_code < 400:
            if not response.content.strip():
                return None
            return parse_json(self.name, response)
        raise self._error(response)

    def _error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        raw = loads_or_none(response.content)  # None when not JSON
        try:
            body = ErrorBody.model_validate(raw) if isinstance(raw, dict) else ErrorBody()
        except ValueError:  # a wrongly-typed envelope
            body = ErrorBody()
        code, desc = body.error_code, body.error_desc or response.reason_phrase
        if code is None:
            mapped = plumbing.map_http_status(self.name, response)
            assert mapped is not None
            if isinstance(mapped, ProviderRateLimited) and mapped.retry_after is None:
                mapped.retry_after = self.limiter.wait_time()
            return mapped
        text = f"{desc} [{code}]"
        if code == THROTTLED or status == 429:
            header = plumbing.retry_after_seconds(response.headers.get("retry-after"))
            return ProviderRateLimited(
                self.name,
                f"{text}: over the app's call limit",
                retry_after=header if header is not None else self.limiter.wait_time(),
            )
        if code in AUTH_CODES or status == 401:
            return ProviderAuthError(self.name, text)
        if code in NOT_FOUND_CODES or status == 404:
            return ProviderNotFound(
                self.name, desc, code=code, field=FIELDS.get(code), status=status
            )
        if status >= 500 or status == 408:
            return ProviderUnavailable(self.name, f"HTTP {status}: {text}")
        return ProviderRejected(self.name, desc, code=code, field=FIELDS.get(code), status=status)

    async def _probe(self) -> None:
        await self.call("GET", CATEGORY, params={"pageNo": 0, "pageSize": 1})

    # -- paging --------------------------------------------------------------------
    async def _ordered(
        self, calls: Iterable[Callable[[], Coroutine[Any, Any, T]]]
    ) -> AsyncGenerator[T, None]:
        """Run ``calls`` a few at a time (``page_concurrency``), yielding in order."""
        pending: deque[asyncio.Task[T]] = deque()
        queue = iter(calls)
        try:
            while True:
                while len(pending) < self.page_concurrency:
                    call = next(queue, None)
                    if call is None:
                        break
                    pending.append(asyncio.ensure_future(call()))
                if not pending:
                    return
                yield await pending.popleft()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    def _guard(self, what: str) -> PageGuard:
        return PageGuard(self.name, what.rsplit("/", 1)[-1], self.options.max_pages)

    async def _page(
        self, path: str, params: dict[str, Any], page_no: int, size: int, model: type[PageT]
    ) -> PageT:
        data = await self.call("GET", path, params={**params, "pageNo": page_no, "pageSize": size})
        return load(self.name, model, data, f"{path.rsplit('/', 1)[-1]} page {page_no}")

    async def _pages(
        self, path: str, params: dict[str, Any], size: int, model: type[PageT]
    ) -> AsyncIterator[PageT]:
        """Every page in order: page 0 first (for ``totalCount``), then the rest."""
        guard = self._guard(path)
        first = await self._page(path, params, 0, size, model)
        guard.page(_row_ids(first))
        yield first
        if not _rows(first):
            return
        calls = (
            partial(self._page, path, params, n, size, model)
            for n in range(1, guard.announced(page_count(first.totalCount, size)))
        )
        async with aclosing(self._ordered(calls)) as pages:
            async for page in pages:
                guard.page(_row_ids(page))
                yield page
                if not _rows(page):  # fewer records than totalCount promised
                    return

    async def _task_list(self, **filters: str) -> list[OperationInfo]:
        pages = self._pages(OPERATIONS, filters, self.task_page_size, OperationPage)
        return [info async for page in pages for info in page.data]

    def _sub_path(self, operation_id: str) -> str:
        return f"{OPERATIONS}/{path_segment(self.name, operation_id)}/subOperations"

    async def _sub_operations(self, operation_id: str) -> AsyncIterator[SubOperationInfo]:
        path = self._sub_path(operation_id)
        async for page in self._pages(path, {}, self.task_page_size, SubOperationPage):
            for sub in page.data:
                yield sub

    async def _all_sub_operations(
        self, tasks: list[OperationInfo]
    ) -> AsyncIterator[tuple[OperationInfo, SubOperationInfo]]:
        """Subtasks of many tasks through one window: page counts come from ``staResult``.

        Pages are planned lazily; a task's first short or empty page ends its listing
        (pages of it already in flight are dropped), so a huge ``total`` costs nothing."""
        size = self.task_page_size
        guards = [self._guard(f"task {info.operationId} subtasks") for info in tasks]
        planned = [
            max(1, guard.announced(page_count(info.staResult.total if info.staResult else 0, size)))
            for guard, info in zip(guards, tasks, strict=True)
        ]
        ended: set[int] = set()  # tasks whose listing came to an end

        def plan() -> Iterator[tuple[int, int]]:
            for index, count in enumerate(planned):
                for n in range(count):
                    if index in ended:
                        break
                    yield index, n

        async def fetch(index: int, n: int) -> tuple[int, int, SubOperationPage]:
            path = self._sub_path(tasks[index].operationId)
            return index, n, await self._page(path, {}, n, size, SubOperationPage)

        calls = (partial(fetch, index, n) for index, n in plan())
        async with aclosing(self._ordered(calls)) as pages:
            async for index, n, page in pages:
                if index in ended:
                    continue
                info = tasks[index]
                guards[index].page(_row_ids(page))
                for sub in page.data:
                    yield info, sub
                if len(page.data) < size:
                    ended.add(index)
                    continue
                # staResult undercounted: after its last planned page, fetch what
                # totalCount still promises (up to a short page).
                last = n == planned[index] - 1
                while last and len(page.data) >= size and (n + 1) * size < page.totalCount:
                    n += 1
                    _, _, page = await fetch(index, n)
                    guards[index].page(_row_ids(page))
                    for sub in page.data:
                        yield info, sub

    async def group_members(self, group: str) -> list[str]:
        """The device ids of a device group, by the name tasks target it with [inferred
        paths: docs/platforms/oceanconnect.md]. ``ProviderNotFound`` if no such group."""
        found = None
        async for page in self._pages(GROUPS, {"name": group}, 100, GroupPage):
            found = next((g for g in page.groups if g.name == group), None)
            if found is not None:
                break
        if found is None:
            raise ProviderNotFound(
                self.name, f"no device group named {group!r}", code="device_groups"
            )
        members: list[str] = []
        async for members_page in self._pages(MEMBERS, {"devGroupId": found.id}, 250, MemberPage):
            members += members_page.deviceIds
        return list(dict.fromkeys(members))

    async def _task(self, operation_id: str) -> OperationInfo:
        data = await self.call("GET", f"{OPERATIONS}/{path_segment(self.name, operation_id)}")
        return load(self.name, OperationInfo, data, f"task {operation_id}")

    async def _packages(self) -> dict[str, Firmware]:
        return {fw.firmware_id: fw for fw in await self.firmware()}

    # -- reads ---------------------------------------------------------------------
    async def devices(self) -> AsyncIterator[Device]:
        for device in await self._device_list.get(self._list_devices):
            yield device

    async def _list_devices(self) -> list[Device]:
        pages = self._pages(DEVICES, {}, self.device_page_size, DevicePage)
        return [
            normalize.device(self.name, record) async for page in pages for record in page.devices
        ]

    async def firmware(self) -> list[Firmware]:
        pages = self._pages(CATEGORY, {}, 100, CategoryPage)
        return [normalize.firmware(self.name, info) async for page in pages for info in page.data]

    async def campaigns(self) -> list[Campaign]:
        packages, tasks = await self._refresh_lists()
        return [
            normalize.campaign(self.name, info, packages, self.options.map_status) for info in tasks
        ]

    async def upgrades(self) -> AsyncIterator[DeviceUpgrade]:
        packages, tasks = await self._refresh_lists()
        targets = {info.operationId: normalize.target_version(info, packages) for info in tasks}
        for info, subs in await self._subtasks(tasks):
            for sub in subs:
                yield normalize.upgrade(
                    self.name, sub, info.operationId, targets[info.operationId],
                    self.options.map_status,
                )  # fmt: skip

    def _finished(self, info: OperationInfo) -> bool:
        state = normalize.campaign_state(info.status, info.staResult, self.options.map_status)
        return state.terminal

    async def _subtasks(
        self, tasks: list[OperationInfo]
    ) -> list[tuple[OperationInfo, list[SubOperationInfo]]]:
        """Each task's subtasks, in task order; a finished task's are read once."""
        sweep = self._sweeps.due()
        found: dict[str, list[SubOperationInfo]] = {}
        for info in tasks:
            if sweep is None and self._finished(info):
                kept = self._ended.get(info.operationId, info)
                if kept is not None:
                    found[info.operationId] = kept
        fresh = [info for info in tasks if info.operationId not in found]
        for info in fresh:
            found[info.operationId] = []
        async for info, sub in self._all_sub_operations(fresh):
            found[info.operationId].append(sub)
        for info in fresh:
            if self._finished(info):
                self._ended.put(info.operationId, info, found[info.operationId])
        self._ended.keep_only(set(found))
        if sweep is not None:
            self._sweeps.done(sweep)
        return [(info, found[info.operationId]) for info in tasks]

    async def campaign(self, campaign_id: str) -> CampaignDetail:
        if not campaign_id.strip():
            raise ProviderNotFound(self.name, "empty task id", code=None, status=None)
        info, packages = await asyncio.gather(self._task(campaign_id), self._packages())
        summary = normalize.campaign(self.name, info, packages, self.options.map_status)
        devices = [
            normalize.upgrade(
                self.name, sub, info.operationId, summary.firmware_to, self.options.map_status
            )
            async for sub in self._sub_operations(info.operationId)
        ]
        return CampaignDetail(campaign=summary, devices=tuple(devices))

    async def device_history(self, device_id: str) -> list[DeviceUpgrade]:
        """Tasks listing the device (``deviceId`` filter), then its subtask in each."""
        packages, tasks = await asyncio.gather(
            self._packages(), self._task_list(deviceId=device_id)
        )
        history = []
        for info in tasks:
            target = normalize.target_version(info, packages)
            async for sub in self._sub_operations(info.operationId):
                if sub.deviceId == device_id:
                    history.append(
                        normalize.upgrade(
                            self.name, sub, info.operationId, target, self.options.map_status
                        )
                    )
                    break
        return sorted(history, key=_newest_first)

    # -- writes --------------------------------------------------------------------
    def plan_campaign(self, spec: CampaignSpec) -> list[PlannedRequest]:
        base = self.options.base_url.rstrip("/")
        return [
            PlannedRequest(
                method="POST",
                url=f"{base}{request.path}",
                body=request.body,
                note=f"{request.note}; headers app_key: ***, Authorization: Bearer ***",
            )
            for request in task_requests(spec, self.name)
        ]

    async def create_campaign(self, spec: CampaignSpec) -> list[Campaign]:
        """One task per 256 targets; writes are never retried."""
        requests = task_requests(spec, self.name)
        created: list[tuple[str, TaskRequest]] = []
        for n, request in enumerate(requests, 1):
            try:
                data = await self.call("POST", request.path, read=False, json=request.body)
                answer = load(self.name, CreateTaskResponse, data, "create task answer")
            except ProviderError as exc:
                if created:
                    ids = ", ".join(op for op, _ in created)
                    exc.message = (
                        f"{exc.message} (task {n} of {len(requests)} failed;"
                        f" already created: {ids})"
                    )
                raise
            finally:
                self._reads.forget("tasks")  # the next refresh must list the new task
            created.append((answer.operationId, request))
        packages: dict[str, Firmware] = {}
        with contextlib.suppress(ProviderError):  # only names the package version
            packages = await self._packages()
        return [await self._created(op, request, spec, packages) for op, request in created]

    async def _created(
        self,
        operation_id: str,
        request: TaskRequest,
        spec: CampaignSpec,
        packages: dict[str, Firmware],
    ) -> Campaign:
        """The new task as the platform reports it, or a local stand-in if that read fails."""
        try:
            info = await self._task(operation_id)
            return normalize.campaign(self.name, info, packages, self.options.map_status)
        except ProviderError:
            return Campaign(
                provider=self.name,
                kind=self.kind,
                campaign_id=operation_id,
                name=spec.name,
                state=CampaignState.PENDING,
                firmware_to=spec.firmware_to,
                total=0 if request.by_group else len(request.targets),
                start_at=spec.start_at,
                end_at=spec.end_at,
            )

    async def cancel_campaign(self, campaign_id: str) -> Campaign:
        raise self.unsupported("stop or cancel for upgrade tasks in IODM northbound v1.5.0")


def _row_ids(page: Page) -> tuple[Any, ...] | None:
    """A page's identity for the repeat check: its records' ids."""
    ids = tuple(
        row if isinstance(row, str) else (
            getattr(row, "subOperationId", None) or getattr(row, "deviceId", None)
            or getattr(row, "operationId", None) or getattr(row, "id", None)
        )
        for row in _rows(page)
    )  # fmt: skip
    return ids if any(i is not None for i in ids) else None


def _rows(page: Page) -> list[Any]:
    for field_name in ("data", "devices", "groups", "deviceIds"):
        rows = getattr(page, field_name, None)
        if rows is not None:
            return list(rows)
    return []


def _newest_first(upgrade: DeviceUpgrade) -> tuple[bool, float]:
    when = upgrade.created_at or upgrade.updated_at
    return (when is None, -(when.timestamp() if when else 0.0))
