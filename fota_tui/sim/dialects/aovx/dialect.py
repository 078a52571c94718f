"""AOVX cloud: the ``/system/asset/...`` JSON-over-POST API of a vehicle tracker platform.

Follows docs/platforms/aovx.md and seed page 000. What the public docs leave open is
inferred [I] and configurable here:

- Login: the public path is unknown. Default ``POST /system/user/login`` (``login_path``)
  with ``{"userName", "password"}`` where ``password`` is the 32-char lowercase MD5 hex of
  the plaintext (only the MD5 is accepted); answers ``data.tokenId`` plus the user fields of
  the white-label sibling platform. Tokens go in the ``token`` header and expire after
  ``token_ttl`` (default 2 h) on the fleet clock.
- Errors and throttling: see ``aovx_common`` (HTTP 200, ``code != 200``; 429 throttling).
- ``total``/``size`` (``size`` = page count) are numbers on most pages and strings on every
  ``string_counts_every``-th page (documented String, sent int: clients must coerce).
- Every answer carries a ``Date`` header from the fleet clock, as real servers do.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlsplit

from fota_tui.models import ProviderKind
from fota_tui.sim.dialect import Dialect
from fota_tui.sim.dialects.aovx import DEMO_CREDENTIALS
from fota_tui.sim.dialects.aovx.common import (
    CODE_BAD_PARAM,
    CODE_FAILED,
    CODE_NOT_FOUND,
    CODE_THROTTLED,
    CODE_TOKEN,
    OK_MESSAGE,
    ApiError,
    choice_field,
    epoch_ms,
    iso_ms,
    ota_record,
    page_payload,
    paging,
    parse_plain,
    plain,
)
from fota_tui.sim.dialects.aovx.seed import TYPE_ID, TYPE_NAME, seed_fleet
from fota_tui.sim.fleet import SimDevice, SimFirmware, SimFleet
from fota_tui.sim.http import BadBody, SimRequest, SimResponse

DEFAULT_LOGIN_PATH = "/system/user/login"
COMMAND = "/system/asset/command"
TERMINAL = "/system/asset/terminal"
STATUS = "/system/asset/status"
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")
_KEY_SPLIT = re.compile(r"[,;]")
BodyHandler = Callable[[dict[str, Any]], Any]


class AovxDialect(Dialect):
    kind = ProviderKind.AOVX
    # Demo login; the client sends md5(password). Obviously fake.
    credentials: ClassVar[dict[str, str]] = dict(DEMO_CREDENTIALS)

    def __init__(
        self,
        fleet: SimFleet,
        *,
        login_path: str = DEFAULT_LOGIN_PATH,
        token_ttl: timedelta = timedelta(hours=2),
        string_counts_every: int = 3,
        command_ttl: timedelta = timedelta(days=3),
        retry_after: int | None = 1,
    ) -> None:
        super().__init__(fleet)
        self.login_path = login_path
        self.token_ttl = token_ttl
        self.string_counts_every = string_counts_every  # 0: always numbers
        self.command_ttl = command_ttl  # an offline terminal's command gives up (-1) after this
        self.retry_after = retry_after  # Retry-After seconds on 429, None to omit
        self.token_code = CODE_TOKEN  # the code of token answers (401 [I])
        self.token_invalid_message = "token invalid"
        self.token_expired_message = "token失效，请重新登录"
        self.tokens: dict[str, datetime] = {}  # token → expiry
        routes: dict[str, BodyHandler] = {
            f"{COMMAND}/sendOtaCommand": self.send_ota_command,
            f"{COMMAND}/queryTerminalOtaReport": self.query_ota_report,
            f"{TERMINAL}/queryLoginUserTerminalInfoList": self.query_terminals,
            f"{TERMINAL}/queryTerminalInfo": self.query_terminal,
            f"{STATUS}/queryTerminalOnlineStatus": self.query_online_status,
        }
        for path, handler in routes.items():
            self.router.add("POST", path, self._authenticated(handler))

    # -- envelope ----------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"date": format_datetime(self.fleet.now(), usegmt=True)}

    def ok(self, data: Any) -> SimResponse:
        payload = {"code": 200, "message": OK_MESSAGE, "data": data}
        return SimResponse.json(payload, headers=self._headers())

    def error(self, status: int, code: str | int, message: str) -> SimResponse:
        http_status = status if status in (404, 405) or status >= 502 else 200
        payload = {"code": int(code), "message": message, "data": None}
        return SimResponse.json(payload, status=http_status, headers=self._headers())

    def server_error(self) -> SimResponse:
        return self.error(503, 503, "Service temporarily unavailable")

    def throttled(self) -> SimResponse:
        response = self.error(200, CODE_THROTTLED, "Too many requests")
        if self.retry_after is not None:
            response.headers["retry-after"] = str(self.retry_after)
        return response

    def bad_body(self, detail: str) -> SimResponse:
        return self.error(200, CODE_BAD_PARAM, f"Request body is not valid JSON: {detail}")

    def handle(self, request: SimRequest) -> SimResponse:
        if request.path.rstrip("/") == self.login_path.rstrip("/"):
            if request.method.upper() != "POST":
                return self.method_not_allowed(request)
            try:
                return self._guard(request, self.login)
            except BadBody as exc:
                return self.bad_body(str(exc))
        return super().handle(request)

    def _guard(self, request: SimRequest, handler: BodyHandler) -> SimResponse:
        body = request.json()
        if not isinstance(body, dict):
            return self.error(200, CODE_BAD_PARAM, "Request body must be a JSON object")
        try:
            with self.fleet.lock:
                return self.ok(handler(body))
        except ApiError as exc:
            return self.error(200, exc.code, exc.message)

    def _authenticated(self, handler: BodyHandler) -> Callable[[SimRequest], SimResponse]:
        def serve(request: SimRequest) -> SimResponse:
            token = (request.header("token") or "").strip()
            expiry = self.tokens.get(token)
            if expiry is None:
                return self.error(200, self.token_code, self.token_invalid_message)
            if expiry <= self.fleet.now():
                del self.tokens[token]
                return self.error(200, self.token_code, self.token_expired_message)
            return self._guard(request, handler)

        return serve

    # -- auth --------------------------------------------------------------------
    def expire_tokens(self) -> None:
        self.tokens.clear()

    def login(self, body: dict[str, Any]) -> dict[str, Any]:
        user, password = body.get("userName"), body.get("password")
        if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
            raise ApiError(CODE_BAD_PARAM, "userName and password are required")
        if not _MD5_RE.match(password):
            raise ApiError(CODE_BAD_PARAM, "password: expected the 32-char lowercase MD5 hex")
        expected = hashlib.md5(self.credentials["password"].encode()).hexdigest()
        if user != self.credentials["username"] or not secrets.compare_digest(password, expected):
            raise ApiError(CODE_FAILED, "用户名或密码错误")
        now = self.fleet.now()
        token = secrets.token_hex(16)
        self.tokens[token] = now + self.token_ttl
        return {
            "tokenId": token,
            "userId": "2B7E151628AED2A6ABF7158809CF4F3C",
            "orgId": "C27D9A41E6F04B3881D5C0E9A7F2B613",
            "orgName": "Demo Fleet",
            "timeDiff": 28800,
            "loginTime": iso_ms(now),
            "loginTimestamp": epoch_ms(now),
            "logoUrl": "",
            "defaultMenu": "monitor",
            "dateFormat": "YYYY-MM-DD HH:mm:ss",
            "defaultMap": "amap",
            "webTheme": "light",
            "adminCode": user,
            "moduleStyle": 0,
        }

    # -- seeding -----------------------------------------------------------------
    def seed(self, count: int, rng: random.Random) -> None:
        seed_fleet(self.fleet, count, rng)

    # -- OTA ---------------------------------------------------------------------
    def send_ota_command(self, body: dict[str, Any]) -> None:
        ids = body.get("terminalIds")
        if not isinstance(ids, list) or not ids:
            raise ApiError(
                CODE_BAD_PARAM, "terminalIds: required, a non-empty list of terminal ids"
            )
        if not all(isinstance(i, str) and i.strip() for i in ids):
            raise ApiError(CODE_BAD_PARAM, "terminalIds: every id must be a non-empty string")
        ota_type = choice_field(body, "type", "0 (app) or 1 (code)")
        mode = choice_field(body, "mode", "0 (whole package) or 1 (differential)")
        protocol = choice_field(body, "protocol", "0 (FTP) or 1 (HTTP)")
        version = body.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            version = str(version)  # documented int, used as a string label
        if not isinstance(version, str) or not version.strip():
            raise ApiError(CODE_BAD_PARAM, "version: required, the target version label")
        url = body.get("fileUrl")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https", "ftp"):
            raise ApiError(CODE_BAD_PARAM, "fileUrl: required, an http(s):// or ftp:// URL")
        terminals = list(dict.fromkeys(i.strip() for i in ids))
        missing = [t for t in terminals if t not in self.fleet.devices[self.kind]]
        if missing:
            raise ApiError(CODE_NOT_FOUND, f"终端不存在 (terminal not found): {missing[0]}")
        now = self.fleet.now()
        self.fleet.create_job(
            self.kind,
            job_id=self.fleet.hex_id(32, True),
            name=f"OTA {version}",
            firmware=self._firmware(url, version, now),
            device_ids=terminals,
            created_at=now,
            start_at=now,
            end_at=now + self.command_ttl,
            meta={
                "type": ota_type,
                "mode": mode,
                "protocol": protocol,
                "version": version,
                "url": url,
            },
        )
        return None

    def _firmware(self, url: str, version: str, now: datetime) -> SimFirmware:
        for firmware in self.fleet.firmware[self.kind]:
            if firmware.url == url:
                return firmware
        name = PurePosixPath(urlsplit(url).path).name or url
        return SimFirmware(self.kind, url, name, version, "", "AOVX", "", TYPE_NAME, url, now)

    def query_ota_report(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise ApiError(CODE_BAD_PARAM, "ids: required, a non-empty list of terminal ids")
        start = parse_plain(body.get("startTime"), "startTime")
        end = parse_plain(body.get("endTime"), "endTime")
        if start > end:
            raise ApiError(CODE_BAD_PARAM, "startTime: must not be later than endTime")
        page, size = paging(body)
        now = self.fleet.now()
        rows = []
        for terminal_id in dict.fromkeys(ids):
            device = self.fleet.devices[self.kind].get(terminal_id)
            if device is None:
                continue
            seen = set()
            for job in self.fleet.jobs_of_device(self.kind, terminal_id):
                target = job.targets.get(terminal_id)
                if job.job_id in seen or target is None:
                    continue
                seen.add(job.job_id)
                if target.added_at > now or not start <= target.added_at <= end:
                    continue
                if not self.fleet.listed(self.kind, target.added_at, now):
                    continue
                rows.append(ota_record(job, target, device.extra["terminalNum"], now))
        rows.sort(key=lambda r: (-r["sendTimestamp"], r["mark"]))
        return page_payload(rows, page, size, as_strings=self._strings(page))

    def _strings(self, page: int) -> bool:
        return bool(self.string_counts_every) and page % self.string_counts_every == 0

    # -- terminals ---------------------------------------------------------------
    def _terminal(self, device: SimDevice) -> dict[str, Any]:
        x = device.extra
        return {
            "id": device.device_id,
            "terminalNum": x["terminalNum"],
            "customNum": x["customNum"],
            "orgId": x["orgId"],
            "orgName": x["orgName"],
            "vehicleId": x["vehicleId"],
            "vehicleNum": x["vehicleNum"],
            "typeId": TYPE_ID,
            "typeName": TYPE_NAME,
            "simNum": x["simNum"],
            "iccid": x["iccid"],
            "imei": device.imei,
            "status": x["status"],
            "descInfo": x["descInfo"],
            "expireTime": plain(x["expireTime"]),
            "createTime": plain(device.created_at),
            "creatorId": "2B7E151628AED2A6ABF7158809CF4F3C",
            "creator": "admin",
        }

    def query_terminals(self, body: dict[str, Any]) -> dict[str, Any]:
        raw_type = body.get("queryType", body.get("keyType", 0))  # docs name both
        key_type = choice_field({"queryType": raw_type}, "queryType", "0 (fuzzy) or 1 (batch)")
        key = body.get("key") or ""
        if not isinstance(key, str):
            raise ApiError(CODE_BAD_PARAM, "key: must be a string")
        page, size = paging(body)
        devices = list(self.fleet.devices[self.kind].values())
        key = key.strip()
        if key and key_type == 1:
            wanted = {k.strip() for k in _KEY_SPLIT.split(key) if k.strip()}
            devices = [d for d in devices if wanted & _keys(d)]
        elif key:
            devices = [d for d in devices if any(key in k for k in _keys(d))]
        payload = page_payload(devices, page, size, as_strings=self._strings(page))
        payload["data"] = [self._terminal(d) for d in payload["data"]]
        return payload

    def _device(self, body: dict[str, Any]) -> SimDevice:
        terminal_id = body.get("terminalId")
        if not isinstance(terminal_id, str) or not terminal_id.strip():
            raise ApiError(CODE_BAD_PARAM, "terminalId: required")
        device = self.fleet.devices[self.kind].get(terminal_id.strip())
        if device is None:
            raise ApiError(CODE_NOT_FOUND, f"终端不存在 (terminal not found): {terminal_id}")
        return device

    def query_terminal(self, body: dict[str, Any]) -> dict[str, Any]:
        device = self._device(body)
        x, now = device.extra, self.fleet.now()
        fix = now - timedelta(seconds=x["lastFix"])
        return {
            **self._terminal(device),
            "iconType": 1,
            "protocolType": 0,
            "terminalStatus": {
                "onlineStatus": int(device.online),
                "battery": x["battery"],
                "shutdown": 0,
                "locType": 1,
                "lat": round(x["lat"], 6),
                "lon": round(x["lon"], 6),
                "speed": 0 if not device.online else 42,
                "dir": 90,
                "mil": 12873.4,
                "gtime": plain(fix),
                "rtime": plain(fix + timedelta(seconds=2)),
                "alarms": [],
            },
        }

    def query_online_status(self, body: dict[str, Any]) -> dict[str, Any]:
        device = self._device(body)
        fix = self.fleet.now() - timedelta(seconds=device.extra["lastFix"])
        answer: dict[str, Any] = {
            "terminalId": device.device_id,
            "onlineStatus": int(device.online),
        }
        if device.extra["acc"] is not None:  # absent when invalid
            answer["acc"] = device.extra["acc"]
        answer["gnssTime"] = plain(fix)
        answer["recvTime"] = plain(fix + timedelta(seconds=2))
        return answer


def _keys(device: SimDevice) -> set[str]:
    x = device.extra
    keys = {x["terminalNum"], x["customNum"], device.imei, x["simNum"], device.device_id}
    if x["vehicleNum"]:
        keys.add(x["vehicleNum"])
    return keys
