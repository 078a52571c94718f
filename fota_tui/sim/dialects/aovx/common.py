"""AOVX dialect plumbing: codes, time formats, the phase → OTA status table, records.

Only the success envelope ``{"code": 200, "message": "Operation succeeded", "data": …}`` is
documented (docs/platforms/aovx.md). Everything about errors is inferred [I] and is the
simulator's choice: errors come back as HTTP 200 with ``code != 200`` and a human
``message`` (English or Chinese):

- ``400`` a request parameter is missing or has the wrong type (the message names it),
- ``401`` ``token invalid`` (unknown/missing token) or ``token失效，请重新登录`` (expired),
- ``404`` no such terminal,
- ``429`` ``Too many requests`` (throttling is undocumented),
- ``500`` server-side failure, and wrong login credentials (``用户名或密码错误``).

Route-level failures (unknown path, wrong verb) and injected gateway failures keep their
HTTP status (404/405/503) with the same envelope.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fota_tui.sim.fleet import Phase, Reason, SimJob, SimTarget, Step

OK_MESSAGE = "Operation succeeded"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # request times and naive response times (UTC)
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CODE_BAD_PARAM = 400
CODE_TOKEN = 401
CODE_NOT_FOUND = 404
CODE_THROTTLED = 429
CODE_FAILED = 500

# Phase (+ neutral reason) → the OTA report's ``status``. The seed page (000) words them:
# -1 command failed to be issued; 1 issued, waiting for the terminal to download;
# 2 upgrade started, downloading; 3 succeeded; 4 failed.
STATUS_BY_PHASE: dict[Phase, int] = {
    Phase.PENDING: 1,
    Phase.QUEUED: 1,
    Phase.SENDING: 1,
    Phase.DOWNLOADING: 2,
    Phase.INSTALLING: 2,
    Phase.SUCCEEDED: 3,
    Phase.FAILED: 4,
    Phase.EXPIRED: -1,  # never reached the terminal in time
    Phase.CANCELLED: -1,  # AOVX has no cancel; only seen if a test cancels a job directly
}
UNDELIVERED = frozenset({Reason.DELIVERY_FAILED, Reason.DEVICE_REJECTED})


class ApiError(Exception):
    """Raised inside a handler; the dialect answers it in the platform envelope."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def ota_status(step: Step) -> int:
    if step.phase is Phase.FAILED and step.reason in UNDELIVERED:
        return -1
    return STATUS_BY_PHASE[step.phase]


def status_since(job: SimJob, target: SimTarget, now: datetime) -> tuple[int, datetime]:
    """The record's status now and when it last changed (``dateTime``)."""
    current = target.step_at(now, job.cancelled_at)
    status, changed, previous = ota_status(current), target.added_at, None
    for step in target.steps:
        if step.at > now or step.at > current.at:
            break
        code = ota_status(step)
        if code != previous:
            changed, previous = step.at, code
    if current.phase is Phase.CANCELLED and previous != status:
        changed = current.at
    return status, max(changed, target.added_at)


# -- time formats ------------------------------------------------------------------
def iso_ms(when: datetime) -> str:
    """``2023-02-02T10:07:39.151Z``."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def epoch_ms(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(milliseconds=1)


def plain(when: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return when.astimezone(UTC).strftime(TIME_FORMAT)


def parse_plain(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not _TIME_RE.match(value):
        raise ApiError(CODE_BAD_PARAM, f"{field}: required, format 'YYYY-MM-DD HH:MM:SS' (UTC)")
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ApiError(CODE_BAD_PARAM, f"{field}: {value!r} is not a valid date/time") from None


# -- request fields ----------------------------------------------------------------
def int_field(body: dict[str, Any], field: str, *, default: int | None = None) -> int:
    """An int parameter; numeric strings are accepted as the Java backend would."""
    value = body.get(field)
    if value is None and default is not None:
        return default
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(CODE_BAD_PARAM, f"{field}: required, an integer")
    return value


def choice_field(body: dict[str, Any], field: str, meanings: str) -> int:
    value = int_field(body, field)
    if value not in (0, 1):
        raise ApiError(CODE_BAD_PARAM, f"{field}: must be {meanings}, got {value}")
    return value


def paging(body: dict[str, Any]) -> tuple[int, int]:
    """``pageNum`` (1-based, default 1) and ``pageSize`` (default 20)."""
    page = int_field(body, "pageNum", default=1)
    size = int_field(body, "pageSize", default=20)
    if page < 1:
        raise ApiError(CODE_BAD_PARAM, f"pageNum: must be >= 1, got {page}")
    if size < 1:
        raise ApiError(CODE_BAD_PARAM, f"pageSize: must be >= 1, got {size}")
    return page, size


def page_payload(rows: list[Any], page: int, size: int, *, as_strings: bool) -> dict[str, Any]:
    """``{total, size (= page count), data}``; counts as strings when ``as_strings``."""
    total = len(rows)
    pages = -(-total // size)
    chunk = rows[(page - 1) * size : page * size]
    if as_strings:
        return {"total": str(total), "size": str(pages), "data": chunk}
    return {"total": total, "size": pages, "data": chunk}


# -- OTA report records ------------------------------------------------------------
def mark_of(job: SimJob, terminal_id: str) -> str:
    """The record id: 32 upper-case hex digits, stable per (command, terminal)."""
    return hashlib.md5(f"{job.job_id}:{terminal_id}".encode()).hexdigest().upper()


def upgrade_info(job: SimJob) -> str:
    """A JSON *string* whose values are all strings (seed page 000)."""
    meta = job.meta
    info = {
        "TYPE": str(meta.get("type", 0)),
        "MODE": str(meta.get("mode", 0)),
        "PROTOCOL": str(meta.get("protocol", 1)),
        "VERSION": str(meta.get("version", job.firmware.version)),
        "URL": str(meta.get("url", job.firmware.url)),
    }
    return json.dumps(info, separators=(",", ":"), ensure_ascii=False)


def ota_record(job: SimJob, target: SimTarget, terminal_num: str, now: datetime) -> dict[str, Any]:
    status, changed = status_since(job, target, now)
    sent = target.added_at
    return {
        "terminalId": target.device_id,
        "terminalNum": terminal_num,
        "upgradeInfo": upgrade_info(job),
        "status": status,
        "sendTime": iso_ms(sent),
        "sendTimestamp": epoch_ms(sent),
        "dateTime": iso_ms(changed),
        "mark": mark_of(job, target.device_id),
        "dateTimestamp": epoch_ms(changed),
    }
