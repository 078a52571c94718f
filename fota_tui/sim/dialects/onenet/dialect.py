"""China Mobile OneNET NB-IoT, legacy ``api.heclouds.com``: cached commands and devices.

Follows docs/platforms/onenet.md and seed page 001. Auth is the ``api-key`` header holding the
product MasterKey (no tokens, no expiry); anything else is errno 1 "auth failed". Every
platform error is HTTP 200 ``{"errno", "error"}``. Inferred [I] choices, configurable here:

- Throttling: the FAQ's 300 calls/s (``rate_limit``) is answered as errno 7 "service internal
  error" (whose documented advice is "retry after an interval") with ``Retry-After: 1``.
- Unknown IMEIs on ``/nbiot/...`` are errno 1 (the documented meaning is "api-key does not
  match imei"); on ``/devices/getbyimei`` errno 3.
- Missing parameters are errno 3, malformed values 5108, out-of-range values and other
  documented constraints 5006; a device that is not online for an instant read 2001.
- History ``per_page`` defaults to 10 and allows up to 100; devices ``per_page`` 30 / 100.

FOTA has no northbound API on OneNET, so a campaign is, per IMEI, a cached WRITE of the
package URI to ``/5/0/1`` plus a cached EXECUTE of ``/5/0/2`` (see ``onenet_commands``).
A write of ``/5/0/1`` through the API creates a one-device ``SimJob``; the following execute
of ``/5/0/2`` for the same IMEI joins it. Instant reads of ``/5/0`` show State and Update
Result, of ``/3/0`` the manufacturer, model and firmware version. Cancelling one waiting
command of a FOTA pair stops that device's upgrade in the fleet; its partner stays waiting
(until cancelled too or expired), as separate cached commands would.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from fota_tui.models import ProviderKind
from fota_tui.sim.dialect import Dialect
from fota_tui.sim.dialects.onenet import DEMO_CREDENTIALS
from fota_tui.sim.dialects.onenet.book import CommandBook, command_spec
from fota_tui.sim.dialects.onenet.commands import (
    Command,
)
from fota_tui.sim.dialects.onenet.common import (
    ERR_AUTH,
    ERR_INTERNAL,
    ERR_INVALID,
    ERR_LOGIC,
    ERR_OFFLINE,
    ERR_PARAM,
    ERR_UNSUCCESS,
    FOTA_INST,
    FOTA_OBJ,
    RES_UPDATE,
    RES_URI,
    SENT,
    WAIT,
    ApiError,
    bj,
    parse_bj,
)
from fota_tui.sim.dialects.onenet.params import content_param, int_param, windows
from fota_tui.sim.dialects.onenet.seed import seed_fleet
from fota_tui.sim.fleet import Reason, SimDevice, SimFleet
from fota_tui.sim.http import SimRequest, SimResponse

_URI_SCHEMES = ("http://", "https://", "coap://", "coaps://")
Handler = Callable[[SimRequest], SimResponse]


class OneNetDialect(Dialect):
    kind = ProviderKind.ONENET
    credentials: ClassVar[dict[str, str]] = dict(DEMO_CREDENTIALS)

    def __init__(self, fleet: SimFleet) -> None:
        super().__init__(fleet)
        self.rate_limit: tuple[int, float] | None = (300, 1.0)  # calls per seconds (FAQ)
        self.monotonic: Callable[[], float] = time.monotonic
        self.expired_tokens = 0
        self._stamps: deque[float] = deque()
        self.book = CommandBook(fleet, self.kind)
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/devices", self.list_devices),
            ("GET", "/devices/getbyimei", self.get_by_imei),
            ("GET", "/devices/status", self.devices_status),
            ("GET", "/nbiot", self.instant_read),
            ("GET", "/nbiot/offline", self.cached_read),
            ("POST", "/nbiot/offline", self.cached_write),
            ("POST", "/nbiot/execute/offline", self.cached_execute),
            ("GET", "/nbiot/offline/history", self.history),
            ("GET", "/nbiot/offline/history/{uuid}", self.detail),
            ("GET", "/nbiot/offline/history/{uuid}/piecewise", self.piecewise),
            ("PUT", "/nbiot/offline/cancel/all", self.cancel_all),  # before {uuid}
            ("PUT", "/nbiot/offline/cancel/{uuid}", self.cancel_one),
        ]
        for method, path, handler in routes:
            self.router.add(method, path, self._guarded(handler))

    # -- the platform's own answers ------------------------------------------
    def error(self, status: int, code: str | int, message: str) -> SimResponse:
        errno = int(code) if str(code).lstrip("-").isdigit() else code
        return SimResponse.json({"errno": errno, "error": message}, status=status)

    def ok(self, data: Any = None) -> SimResponse:
        body: dict[str, Any] = {"errno": 0, "error": "succ"}
        if data is not None:
            body["data"] = data
        return SimResponse.json(body)

    def throttled(self) -> SimResponse:
        response = self.error(200, ERR_INTERNAL, "service internal error")
        response.headers["Retry-After"] = "1"
        return response

    def server_error(self) -> SimResponse:
        return self.error(502, ERR_INTERNAL, "service internal error")

    def bad_body(self, detail: str) -> SimResponse:
        return self.error(200, ERR_PARAM, f"parameter required: body is not valid JSON ({detail})")

    def expire_tokens(self) -> None:
        """api-keys never expire and OneNET issues no tokens: nothing to invalidate."""
        self.expired_tokens += 1

    def seed(self, count: int, rng: random.Random) -> None:
        seed_fleet(self.fleet, count, rng, lambda: f"fota-{self.fleet.hex_id(12)}")
        now = self.fleet.now()
        for device in self.book.devices():
            if rng.random() < 0.12:  # some earlier reads of the firmware version
                created = now - timedelta(seconds=rng.uniform(3600, 30 * 86400))
                self.book.add_plain(
                    device,
                    "READ",
                    3,
                    0,
                    3,
                    created,
                    created,
                    created + timedelta(days=1),
                    3,
                    7,
                    None,
                )

    # -- dispatch --------------------------------------------------------------
    def handle(self, request: SimRequest) -> SimResponse:
        if request.header("api-key") != self.credentials["api_key"]:
            return self.error(200, ERR_AUTH, "auth failed")
        if self._over_limit():
            return self.throttled()
        return super().handle(request)

    def _over_limit(self) -> bool:
        if not self.rate_limit:
            return False
        calls, period = self.rate_limit
        with self.fleet.lock:
            now = self.monotonic()
            while self._stamps and now - self._stamps[0] >= period:
                self._stamps.popleft()
            if len(self._stamps) >= calls:
                return True
            self._stamps.append(now)
            return False

    def _guarded(self, handler: Handler) -> Handler:
        def run(request: SimRequest) -> SimResponse:
            try:
                return handler(request)
            except ApiError as exc:
                return self.error(200, exc.errno, exc.message)

        return run

    # -- parameters --------------------------------------------------------------
    def _device(self, request: SimRequest, unknown: int = ERR_AUTH) -> SimDevice:
        imei = request.query.get("imei", "").strip()
        if not imei:
            raise ApiError(ERR_PARAM, "parameter required: imei")
        device = self.fleet.devices[self.kind].get(imei)
        if device is None:
            raise ApiError(unknown, "auth failed" if unknown == ERR_AUTH else "device not found")
        return device

    def _common(self, request: SimRequest, *, inst: bool, res: bool) -> dict[str, Any]:
        device = self._device(request)
        p: dict[str, Any] = {"device": device, "obj_id": int_param(request, "obj_id", lo=0)}
        p["obj_inst_id"] = int_param(request, "obj_inst_id", lo=0, default=None if inst else -1)
        p["res_id"] = int_param(request, "res_id", lo=0, default=None if res else -1)
        p["valid"], p["expired"] = windows(request, self.fleet.now())
        p["retry"] = int_param(request, "retry", default=3, lo=0, hi=10)
        p["timeout"] = int_param(request, "timeout", default=25, lo=5, hi=40)
        p["trigger_msg"] = int_param(request, "trigger_msg", default=7, lo=1, hi=7)
        p["args"] = dict(request.query)
        return p

    # -- devices ---------------------------------------------------------------
    def list_devices(self, request: SimRequest) -> SimResponse:
        page = int_param(request, "page", default=1, lo=1, hi=10000)
        per_page = int_param(request, "per_page", default=30, lo=1, hi=100)
        now = self.fleet.now()
        devices = self.book.devices()
        if ids := request.query.get("device_id", "").strip():
            wanted = [i.strip() for i in ids.split(",") if i.strip()]
            if len(wanted) > 100:
                raise ApiError(ERR_LOGIC, "system logic limit: at most 100 device_id values")
            devices = [self.book.by_id[i] for i in wanted if i in self.book.by_id]
        if words := request.query.get("key_words", "").strip():
            devices = [
                d
                for d in devices
                if d.name.startswith(words) or str(d.extra["id"]).startswith(words)
            ]
        if (online := request.query.get("online", "").strip().lower()) in ("true", "false"):
            devices = [d for d in devices if self.book.online(d, now) == (online == "true")]
        if tag := request.query.get("tag", "").strip():
            devices = [d for d in devices if d.device_type == tag]
        for name, keep in (
            ("begin", lambda d, t: d.created_at >= t),
            ("end", lambda d, t: d.created_at < t + timedelta(days=1)),
        ):
            if raw := request.query.get(name, "").strip():
                bound = parse_bj(raw, name)
                devices = [d for d in devices if keep(d, bound)]
        chunk = devices[(page - 1) * per_page : page * per_page]
        return self.ok(
            {
                "total_count": len(devices),
                "page": page,
                "per_page": per_page,
                "devices": [self.book.device_record(d, now) for d in chunk],
            }
        )

    def get_by_imei(self, request: SimRequest) -> SimResponse:
        device = self._device(request, unknown=ERR_PARAM)
        data = {
            "create_time": bj(device.created_at),
            "online": self.book.online(device, self.fleet.now()),
            "id": str(device.extra.get("id")),
            "observe_status": bool(device.extra.get("observe", True)),
            "title": device.name,
        }
        # The documented example repeats the "error" key; so do we.
        body = json.dumps({"errno": 0, "error": "succ", "data": data}, ensure_ascii=False)
        body = body[:-1] + ', "error": "succ"}'
        return SimResponse(200, body.encode(), {"content-type": "application/json"})

    def devices_status(self, request: SimRequest) -> SimResponse:
        raw = request.query.get("devIds", "").strip()
        if not raw:
            raise ApiError(ERR_PARAM, "parameter required: devIds")
        self.book.devices()
        now = self.fleet.now()
        found = [self.book.by_id[i.strip()] for i in raw.split(",") if i.strip() in self.book.by_id]
        return self.ok(
            {
                "total_count": len(found),
                "devices": [
                    {"id": str(d.extra["id"]), "title": d.name, "online": self.book.online(d, now)}
                    for d in found
                ],
            }
        )

    # -- object values -----------------------------------------------------------
    def instant_read(self, request: SimRequest) -> SimResponse:
        device = self._device(request)
        obj = int_param(request, "obj_id", lo=0)
        inst = int_param(request, "obj_inst_id", default=-1, lo=0)
        res = int_param(request, "res_id", default=-1, lo=0)
        int_param(request, "timeout", default=25, lo=5, hi=40)
        if res >= 0 and inst < 0:
            raise ApiError(ERR_INVALID, "invalid parameter: res_id needs obj_inst_id")
        now = self.fleet.now()
        if not self.book.online(device, now):
            raise ApiError(ERR_OFFLINE, "device not online")
        values = self.book.values(device, obj, now)
        if values is None or inst > 0 or (res >= 0 and res not in values):
            raise ApiError(ERR_UNSUCCESS, "UNSUCESS: NOT_FOUND")
        return self.ok(self.book.read_result(device, obj, inst, res, now))

    # -- creating commands -------------------------------------------------------------
    def cached_read(self, request: SimRequest) -> SimResponse:
        p = self._common(request, inst=False, res=False)
        if p["res_id"] >= 0 and p["obj_inst_id"] < 0:
            raise ApiError(ERR_INVALID, "invalid parameter: res_id needs obj_inst_id")
        cmd = self.book.add_plain(
            p["device"],
            "READ",
            p["obj_id"],
            p["obj_inst_id"],
            p["res_id"],
            self.fleet.now(),
            p["valid"],
            p["expired"],
            p["retry"],
            p["trigger_msg"],
            None,
            p["args"],
        )
        return self.ok({"uuid": cmd.uuid})

    def cached_write(self, request: SimRequest) -> SimResponse:
        p = self._common(request, inst=True, res=False)
        mode = int_param(request, "mode")
        if mode not in (1, 2):
            raise ApiError(ERR_LOGIC, "system logic limit: mode can only be 1 or 2")
        content = content_param(request, required=True)
        items = content.get("data") if isinstance(content, dict) else None
        if not isinstance(items, list) or not items:
            raise ApiError(ERR_PARAM, "parameter required: data")
        for item in items:
            if not isinstance(item, dict) or "val" not in item:
                raise ApiError(ERR_PARAM, "parameter required: data[].res_id and data[].val")
            if not isinstance(item.get("res_id"), int) or isinstance(item.get("res_id"), bool):
                raise ApiError(ERR_INVALID, "invalid parameter: data[].res_id must be an integer")
            if "type" in item and item["type"] not in (1, 2):
                raise ApiError(ERR_LOGIC, "system logic limit: data[].type can only be 1 or 2")
        uri = next((i["val"] for i in items if i["res_id"] == RES_URI), None)
        device, now = p["device"], self.fleet.now()
        if (p["obj_id"], p["obj_inst_id"]) == (FOTA_OBJ, FOTA_INST) and uri is not None:
            uuid = self.fleet.uuid()
            job = self.fleet.create_job(
                self.kind,
                job_id=uuid,
                name=f"cached write {uuid}",
                firmware=self.book.firmware(str(uri), device),
                device_ids=[device.device_id],
                start_at=p["valid"],
                end_at=p["expired"],
                created_at=now,
                rejected=None if _valid_uri(uri) else {device.device_id: Reason.INVALID_URI},
                meta={"api": True, "write": command_spec("write", uuid, now, p, content, 0)},
            )
            return self.ok({"uuid": job.job_id})
        cmd = self.book.add_plain(
            device,
            "WRITE",
            p["obj_id"],
            p["obj_inst_id"],
            -1,
            now,
            p["valid"],
            p["expired"],
            p["retry"],
            p["trigger_msg"],
            content,
            p["args"],
        )
        return self.ok({"uuid": cmd.uuid})

    def cached_execute(self, request: SimRequest) -> SimResponse:
        p = self._common(request, inst=True, res=True)
        content = content_param(request, required=False)
        if content is not None and (
            not isinstance(content, dict) or not isinstance(content.get("args", ""), str)
        ):
            raise ApiError(ERR_INVALID, "invalid parameter: args must be a string")
        device, now = p["device"], self.fleet.now()
        uuid = self.fleet.uuid()
        if (p["obj_id"], p["obj_inst_id"], p["res_id"]) == (FOTA_OBJ, FOTA_INST, RES_UPDATE):
            job = self.book.open_fota_job(device)
            if job is not None:
                job.meta["execute"] = command_spec("execute", uuid, now, p, content, 1)
                return self.ok({"uuid": uuid})
        self.book.add_plain(
            device,
            "EXECUTE",
            p["obj_id"],
            p["obj_inst_id"],
            p["res_id"],
            now,
            p["valid"],
            p["expired"],
            p["retry"],
            p["trigger_msg"],
            content,
            p["args"],
            uuid,
        )
        return self.ok({"uuid": uuid})

    # -- reading commands ----------------------------------------------------------
    def _command(self, request: SimRequest) -> tuple[SimDevice, Command]:
        device = self._device(request)
        uuid = request.params["uuid"].strip()
        for cmd in self.book.commands(device, self.fleet.now()):
            if cmd.uuid == uuid:
                return device, cmd
        raise ApiError(ERR_PARAM, f"command not found: {uuid}")

    def history(self, request: SimRequest) -> SimResponse:
        device = self._device(request)
        raw_start = request.query.get("start", "").strip()
        if not raw_start:
            raise ApiError(ERR_PARAM, "parameter required: start")
        start = parse_bj(raw_start, "start")
        raw_end = request.query.get("end", "").strip()
        end = parse_bj(raw_end, "end") if raw_end else None
        page = int_param(request, "page", default=1, lo=1)
        per_page = int_param(request, "per_page", default=10, lo=1, hi=100)
        sort = request.query.get("sort", "DESC").strip().upper() or "DESC"
        if sort not in ("DESC", "ASC"):
            raise ApiError(ERR_INVALID, "invalid parameter: sort must be DESC or ASC")
        cmds = [
            c
            for c in self.book.commands(device, self.fleet.now())
            if c.create_time >= start and (end is None or c.create_time <= end)
            and self.fleet.listed(self.kind, c.create_time)
        ]  # fmt: skip
        cmds.sort(key=lambda c: (c.create_time, c.order, c.uuid), reverse=sort == "DESC")
        chunk = cmds[(page - 1) * per_page : page * per_page]
        return self.ok({"total_count": len(cmds), "items": [c.item() for c in chunk]})

    def detail(self, request: SimRequest) -> SimResponse:
        return self.ok(self._command(request)[1].detail())

    def piecewise(self, request: SimRequest) -> SimResponse:
        return self.ok(self._command(request)[1].piecewise())

    # -- cancelling ------------------------------------------------------------------
    def cancel_one(self, request: SimRequest) -> SimResponse:
        device, cmd = self._command(request)
        if cmd.send_status != WAIT:
            raise ApiError(ERR_LOGIC, "system logic limit: only a waiting command can be cancelled")
        self.book.cancel(device, cmd, self.fleet.now())
        return self.ok()

    def cancel_all(self, request: SimRequest) -> SimResponse:
        device = self._device(request)
        now = self.fleet.now()
        succ, failed = [], []
        for cmd in self.book.commands(device, now):
            if cmd.send_status == WAIT:
                self.book.cancel(device, cmd, now)
                succ.append(cmd.uuid)
            elif cmd.send_status == SENT:  # already on its way: cannot be taken back
                failed.append(cmd.uuid)
        return self.ok({"succ": succ, "failed": failed, "total": len(succ) + len(failed)})


def _valid_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith(_URI_SCHEMES) and len(uri) > 10


__all__ = ["OneNetDialect"]
