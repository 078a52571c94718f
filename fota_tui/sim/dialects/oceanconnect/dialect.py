"""Huawei OceanConnect northbound API (IOCM auth/devices, IODM v1.5.0 upgrades).

Follows docs/platforms/oceanconnect.md and seed 004:
- ``POST /iocm/app/sec/v1.1.0/login`` takes a FORM body ``appId`` & ``secret`` (``Secret``
  accepted too, as the Go sample sends it); ``refreshToken`` takes JSON. Only the newest
  access token of an app is valid; ``expiresIn`` is 3600, sent as a string on every
  second login (the documented "Integer(256)" arrives as text in the wild).
- Every other call needs ``app_key`` and ``Authorization: Bearer``: missing app_key →
  500 ``100220``; bad/old/expired token → 403 ``1010005``.
- 100 calls per 60 s per app on the fleet clock → 403 ``1010009`` (no Retry-After).
- Errors are ``{"error_code": "...", "error_desc": "..."}`` (inferred shape).
"""

from __future__ import annotations

import random
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from fota_tui.models import ProviderKind
from fota_tui.sim.dialect import Dialect
from fota_tui.sim.dialects.oceanconnect import DEMO_CREDENTIALS
from fota_tui.sim.dialects.oceanconnect.common import (
    FILE_ID_RE,
    IODM,
    ApiError,
    fmt_time,
    paged,
    paging,
    parse_time,
)
from fota_tui.sim.dialects.oceanconnect.seed import (
    seed_catalog,
    seed_devices,
    seed_groups,
    seed_tasks,
)
from fota_tui.sim.dialects.oceanconnect.tasks import KIND, SimGroup, TaskApi
from fota_tui.sim.fleet import Phase, SimDevice, SimFirmware, SimFleet
from fota_tui.sim.http import SimRequest, SimResponse

SEC = "/iocm/app/sec/v1.1.0"
Handler = Callable[[SimRequest], SimResponse]


@dataclass
class Grant:
    access: str
    refresh: str
    expires_at: datetime
    refresh_expires_at: datetime


class OceanConnectDialect(Dialect):
    kind = ProviderKind.OCEANCONNECT
    # Keyed like the profile's provider table (app_id, secret): the demo passes them on.
    credentials: ClassVar[dict[str, str]] = dict(DEMO_CREDENTIALS)
    token_lifetime = timedelta(seconds=3600)
    refresh_lifetime = timedelta(days=30)
    rate_limit = 100  # calls per app per ``rate_period``
    rate_period = timedelta(seconds=60)

    def __init__(self, fleet: SimFleet) -> None:
        super().__init__(fleet)
        self.apps = {self.credentials["app_id"]: self.credentials["secret"]}
        self.grants: dict[str, Grant] = {}
        self.issued = 0
        self.calls: dict[str, deque[datetime]] = {}
        self.groups: dict[str, SimGroup] = {}
        self.tasks = TaskApi(fleet, self.groups)
        self._order: list[SimDevice] = []
        add = self.router.add
        add("POST", f"{SEC}/login", self._plain(self.login))
        add("POST", f"{SEC}/refreshToken", self._plain(self.refresh))
        add("GET", "/iocm/app/dm/v1.4.0/devices", self._api(self.list_devices))
        add("GET", "/iocm/app/dm/v1.1.0/devices/{deviceId}", self._api(self.get_device))
        add("GET", "/iocm/app/devgroup/v1.3.0/devGroups", self._api(self.list_groups))
        add("GET", "/iocm/app/dm/v1.2.0/devices/ids", self._api(self.group_members))
        add("GET", f"{IODM}/category", self._api(self.list_packages))
        add("GET", f"{IODM}/category/{{fileId}}", self._api(self.get_package))
        add("DELETE", f"{IODM}/category/{{fileId}}", self._api(self.delete_package))
        add("POST", f"{IODM}/operations/softwareUpgrade", self._api(self.create_software))
        add("POST", f"{IODM}/operations/firmwareUpgrade", self._api(self.create_firmware))
        add("GET", f"{IODM}/operations", self._api(lambda r: self.tasks.list_tasks(r.query)))
        add(
            "GET",
            f"{IODM}/operations/{{operationId}}",
            self._api(lambda r: self.tasks.detail(r.params["operationId"])),
        )
        add(
            "GET",
            f"{IODM}/operations/{{operationId}}/subOperations",
            self._api(lambda r: self.tasks.sub_operations(r.params["operationId"], r.query)),
        )

    # -- envelope ----------------------------------------------------------------
    def error(self, status: int, code: str | int, message: str) -> SimResponse:
        return SimResponse.json({"error_code": str(code), "error_desc": message}, status=status)

    def api_error(self, exc: ApiError) -> SimResponse:
        return self.error(exc.status, exc.code, exc.desc)

    def throttled(self) -> SimResponse:
        return self.api_error(ApiError("1010009"))

    def server_error(self) -> SimResponse:
        return self.api_error(ApiError("50252"))

    def bad_body(self, detail: str) -> SimResponse:
        return self.api_error(ApiError("120015"))

    def expire_tokens(self) -> None:
        self.grants.clear()

    def _plain(self, handler: Callable[[SimRequest], Any]) -> Handler:
        def wrapped(request: SimRequest) -> SimResponse:
            try:
                return SimResponse.json(handler(request))
            except ApiError as exc:
                return self.api_error(exc)

        return wrapped

    def _api(self, handler: Callable[[SimRequest], Any]) -> Handler:
        """app_key → throttle → token, then the handler (payload or ``ApiError``)."""

        def guarded(request: SimRequest) -> SimResponse:
            app_key = request.header("app_key")
            if not app_key:
                return self.api_error(ApiError("100220"))
            if self._over_limit(app_key):
                return self.throttled()
            auth = request.header("authorization") or ""
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
            token = token or request.header("access_token")  # the Go sample's variant
            grant = self.grants.get(app_key)
            if grant is None or token != grant.access or self.fleet.now() >= grant.expires_at:
                return self.api_error(ApiError("1010005"))
            try:
                payload = handler(request)
            except ApiError as exc:
                return self.api_error(exc)
            if payload is None:
                return SimResponse(200, b"", {})
            return SimResponse.json(payload)

        return guarded

    def _over_limit(self, app_key: str) -> bool:
        now = self.fleet.now()
        calls = self.calls.setdefault(app_key, deque())
        while calls and now - calls[0] >= self.rate_period:
            calls.popleft()
        if len(calls) >= self.rate_limit:
            return True
        calls.append(now)
        return False

    # -- auth --------------------------------------------------------------------
    def _issue(self, app_id: str) -> dict[str, Any]:
        now = self.fleet.now()
        grant = Grant(
            secrets.token_hex(16),
            secrets.token_hex(16),
            now + self.token_lifetime,
            now + self.refresh_lifetime,
        )
        self.grants[app_id] = grant  # the previous token of this app stops working
        self.issued += 1
        seconds = int(self.token_lifetime.total_seconds())
        return {
            "scope": "default",
            "tokenType": "bearer",
            "expiresIn": str(seconds) if self.issued % 2 == 0 else seconds,
            "accessToken": grant.access,
            "refreshToken": grant.refresh,
        }

    def login(self, request: SimRequest) -> dict[str, Any]:
        form = {k.lower(): v for k, v in request.form().items()}
        app_id, secret = form.get("appid", ""), form.get("secret", "")
        if not app_id or not secret:
            raise ApiError("102202")
        if self.apps.get(app_id) != secret:
            raise ApiError("100208")
        return self._issue(app_id)

    def refresh(self, request: SimRequest) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError("102202")
        app_id, secret, token = (body.get(k) for k in ("appId", "secret", "refreshToken"))
        if not all(isinstance(v, str) and v for v in (app_id, secret, token)):
            raise ApiError("102202")
        assert isinstance(app_id, str)
        if self.apps.get(app_id) != secret:
            raise ApiError("100208")
        grant = self.grants.get(app_id)
        if grant is None or grant.refresh != token or self.fleet.now() >= grant.refresh_expires_at:
            raise ApiError("100006")
        return self._issue(app_id)

    # -- devices -------------------------------------------------------------------
    def _versions(self, device: SimDevice, now: datetime) -> tuple[str, str, datetime]:
        """Current (fwVersion, swVersion, lastModifiedTime) after succeeded tasks."""
        fw, sw = device.firmware, str(device.extra.get("sw", ""))
        fw_at = sw_at = changed = device.created_at
        for job in self.fleet.jobs_of_device(KIND, device.device_id):
            step = job.targets[device.device_id].step_at(now, job.cancelled_at)
            if step.phase is not Phase.SUCCEEDED:
                continue
            changed = max(changed, step.at)
            if job.firmware.file_type == "softwarePackage":
                if step.at >= sw_at:
                    sw, sw_at = job.firmware.version, step.at
            elif step.at >= fw_at:
                fw, fw_at = job.firmware.version, step.at
        return fw, sw, changed

    def device_json(self, device: SimDevice, now: datetime) -> dict[str, Any]:
        fw, sw, changed = self._versions(device, now)
        extra = device.extra
        return {
            "deviceId": device.device_id,
            "gatewayId": device.device_id,  # NB-IoT devices connect directly
            "nodeType": "GATEWAY",
            "creationTime": fmt_time(device.created_at),
            "lastModifiedTime": fmt_time(changed),
            "deviceInfo": {
                "nodeId": device.imei,
                "name": device.name,
                "description": None,
                "manufacturerId": extra.get("manufacturerId"),
                "manufacturerName": device.make,
                "deviceType": device.device_type,
                "model": device.model,
                "swVersion": sw,
                "fwVersion": fw,
                "hwVersion": None,
                "protocolType": "CoAP",
                "status": extra.get("status", "ONLINE" if device.online else "OFFLINE"),
                "statusDetail": "NONE",
                "mute": "FALSE",
                "signalStrength": extra.get("signalStrength"),
                "batteryLevel": extra.get("batteryLevel"),
            },
            "services": None,
        }

    def _devices_by_creation(self) -> list[SimDevice]:
        devices = self.fleet.devices[KIND]
        if len(self._order) != len(devices):
            self._order = sorted(
                devices.values(), key=lambda d: (d.created_at, d.device_id), reverse=True
            )
        return self._order

    def list_devices(self, request: SimRequest) -> dict[str, Any]:
        query = request.query
        page_no, size = paging(query, default_size=25, max_size=250)
        gateway = query.get("gatewayId")
        if page_no is None and not gateway:
            raise ApiError("100022")
        start, end = parse_time(query.get("startTime")), parse_time(query.get("endTime"))
        status = (query.get("status") or "").upper()
        rows = [
            d
            for d in self._devices_by_creation()
            if (not gateway or d.device_id == gateway)
            and (not query.get("deviceType") or d.device_type == query["deviceType"])
            and (not query.get("nodeType") or query["nodeType"].upper() == "GATEWAY")
            and (not status or d.extra.get("status") == status)
            and (start is None or d.created_at >= start)
            and (end is None or d.created_at <= end)
        ]
        if (query.get("sort") or "DESC").upper() == "ASC":
            rows.reverse()
        now = self.fleet.now()
        return paged(rows, page_no, size, lambda d: self.device_json(d, now), key="devices")

    # -- device groups [inferred: docs/platforms/oceanconnect.md] -------------------
    def list_groups(self, request: SimRequest) -> dict[str, Any]:
        """``{totalCount, pageNo, pageSize, list: [group]}``, filtered by ``name``."""
        page_no, size = paging(request.query, default_size=10, max_size=100)
        name = request.query.get("name")
        rows = [g for g in self.groups.values() if not name or g.name == name]
        return paged(rows, page_no or 0, size, self._group_json, key="list")

    @staticmethod
    def _group_json(group: SimGroup) -> dict[str, Any]:
        return {
            "id": group.group_id,
            "name": group.name,
            "description": group.description,
            "curDevNum": len(group.device_ids),
            "maxDevNum": 10000,
        }

    def group_members(self, request: SimRequest) -> dict[str, Any]:
        """``{totalCount, pageNo, pageSize, deviceIds: [...]}`` of one group (by its id)."""
        page_no, size = paging(request.query, default_size=10, max_size=250)
        wanted = request.query.get("devGroupId")
        group = next((g for g in self.groups.values() if g.group_id == wanted), None)
        if group is None:
            raise ApiError("100602" if wanted else "100022")
        return paged(sorted(group.device_ids), page_no or 0, size, str, key="deviceIds")

    def get_device(self, request: SimRequest) -> dict[str, Any]:
        device = self.fleet.device(KIND, request.params["deviceId"])
        if device is None:
            raise ApiError("100403")
        return self.device_json(device, self.fleet.now())

    # -- packages ------------------------------------------------------------------
    @staticmethod
    def package_json(fw: SimFirmware) -> dict[str, Any]:
        return {
            "fileId": fw.firmware_id,
            "name": fw.name,
            "version": fw.version,
            "fileType": fw.file_type,
            "deviceType": fw.device_type,
            "model": fw.model,
            "manufacturerName": fw.make,
            "protocolType": fw.protocol,
            "description": fw.description,
            "date": fw.released_at.strftime("%Y-%m-%d"),
            "uploadTime": fmt_time(fw.released_at),
        }

    def list_packages(self, request: SimRequest) -> dict[str, Any]:
        query = dict(request.query)
        # The English URL template spells it ``manufactureName``: accept both.
        query.setdefault("manufacturerName", query.get("manufactureName", ""))
        page_no, size = paging(query, default_size=10, max_size=100)
        rows = sorted(
            (
                fw
                for fw in self.fleet.firmware[KIND]
                if all(
                    not query.get(param) or query[param] == value
                    for param, value in (
                        ("fileType", fw.file_type),
                        ("deviceType", fw.device_type),
                        ("model", fw.model),
                        ("manufacturerName", fw.make),
                        ("version", fw.version),
                    )
                )
            ),
            key=lambda fw: (fw.released_at, fw.firmware_id),
            reverse=True,
        )
        return paged(rows, page_no or 0, size, self.package_json)

    def _package(self, file_id: str) -> SimFirmware:
        if not FILE_ID_RE.match(file_id):
            raise ApiError("120015")
        for fw in self.fleet.firmware[KIND]:
            if fw.firmware_id == file_id:
                return fw
        raise ApiError("123002")

    def get_package(self, request: SimRequest) -> dict[str, Any]:
        return self.package_json(self._package(request.params["fileId"]))

    def delete_package(self, request: SimRequest) -> None:
        fw = self._package(request.params["fileId"])
        self.fleet.firmware[KIND].remove(fw)

    # -- tasks ---------------------------------------------------------------------
    def create_software(self, request: SimRequest) -> dict[str, str]:
        return self.tasks.create(request.json(), "software")

    def create_firmware(self, request: SimRequest) -> dict[str, str]:
        return self.tasks.create(request.json(), "firmware")

    # -- seeding -------------------------------------------------------------------
    def seed(self, count: int, rng: random.Random) -> None:
        devices = seed_devices(self.fleet, count, rng)
        catalog = seed_catalog(self.fleet, rng)
        seed_groups(self.fleet, self.groups, devices, rng)
        seed_tasks(self.fleet, self.groups, devices, catalog, rng)
