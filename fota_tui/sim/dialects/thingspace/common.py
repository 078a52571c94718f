"""Pieces the ThingSpace v1 and v3 handlers share: rejections, body fields, schedules,
per-device validation and replanning a job after its dates change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fota_tui.sim.dialects.thingspace.words import (
    REJECT_INVALID_IMEI,
    REJECT_LICENSE,
    REJECT_MODEL,
    REJECT_NOT_ELIGIBLE,
    REJECT_NOT_FOUND,
    REJECT_SCHEDULED,
    touch,
)
from fota_tui.sim.fleet import SimFirmware, SimFleet, SimJob

ON_DEMAND_DELAY = timedelta(minutes=90)  # on-demand campaigns start after pre-validation
MIN_WINDOW_HOURS = 4


class ApiError(Exception):
    """A rejection in the platform's ``{errorCode, errorMessage}`` form."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def body_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError("InvalidRequestBody", "Request body must be a JSON object")
    return value


def required(body: dict[str, Any], key: str) -> Any:
    value = body.get(key)
    if value is None or value == "":
        raise ApiError("MissingParameter", f"{key} is required")
    return value


def text(body: dict[str, Any], key: str) -> str:
    value = required(body, key)
    if not isinstance(value, str):
        raise ApiError("InvalidParameter", f"{key} must be a string")
    return value


def flag(body: dict[str, Any], key: str) -> bool:
    value = required(body, key)
    if not isinstance(value, bool):
        raise ApiError("InvalidParameter", f"{key} must be true or false")
    return value


def device_list(body: dict[str, Any], *keys: str) -> list[str]:
    """``deviceList`` (docs also show ``devicelist``): a non-empty list of strings."""
    value = next((body[k] for k in keys if k in body), None)
    if value is None:
        raise ApiError("MissingParameter", f"{keys[0]} is required")
    if not isinstance(value, list) or not value:
        raise ApiError("InvalidDeviceList", f"{keys[0]} must be a non-empty array of IMEIs")
    if not all(isinstance(v, str) for v in value):
        raise ApiError("InvalidDeviceList", f"{keys[0]} entries must be strings (IMEI)")
    return list(dict.fromkeys(value))


def parse_day(body: dict[str, Any], key: str) -> date:
    """``YYYY-MM-DD`` (a full ISO timestamp is tolerated, as one doc example sends)."""
    value = text(body, key)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ApiError("InvalidDate", f"{key} must be a date in YYYY-MM-DD format") from None


def midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class Schedule:
    start_day: date
    end_day: date
    start_at: datetime
    end_at: datetime
    windows: list[tuple[int, int]]


def schedule(body: dict[str, Any], now: datetime, window_key: str | None) -> Schedule:
    start, end = parse_day(body, "startDate"), parse_day(body, "endDate")
    if start < now.date():
        raise ApiError("InvalidDate", "startDate must be today or a future date (UTC)")
    if end < start:
        raise ApiError("InvalidDate", "endDate must be on or after startDate")
    start_at = now + ON_DEMAND_DELAY if start == now.date() else midnight(start)
    end_at = max(midnight(end) + timedelta(days=1), start_at + timedelta(hours=MIN_WINDOW_HOURS))
    windows = time_windows(body.get(window_key)) if window_key else []
    return Schedule(start, end, start_at, end_at, windows)


def _hour(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError("InvalidTimeWindow", f"{key} must be an integer hour")
    try:
        hour = int(value)
    except ValueError:
        raise ApiError("InvalidTimeWindow", f"{key} must be an integer hour") from None
    if not low <= hour <= high:
        raise ApiError("InvalidTimeWindow", f"{key} must be between {low} and {high}")
    return hour


def time_windows(value: Any) -> list[tuple[int, int]]:
    """``[{startTime 0-23, endTime 1-24}]`` with ``endTime >= startTime + 4``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError("InvalidTimeWindow", "campaignTimeWindowList must be an array")
    windows = []
    for item in value:
        if not isinstance(item, dict):
            raise ApiError("InvalidTimeWindow", "each time window must be an object")
        start = _hour(item.get("startTime"), "startTime", 0, 23)
        end = _hour(item.get("endTime"), "endTime", 1, 24)
        if end < start + MIN_WINDOW_HOURS:
            raise ApiError(
                "InvalidTimeWindow",
                f"endTime must be at least {MIN_WINDOW_HOURS} hours after startTime",
            )
        windows.append((start, end))
    return windows


def valid_imei(value: str) -> bool:
    if len(value) != 15 or not value.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def check_device(
    fleet: SimFleet,
    firmware: SimFirmware,
    device_id: str,
    *,
    auto_license: bool = False,
    job: SimJob | None = None,
) -> str | None:
    """Why the platform rejects this device for this firmware, or None."""
    if not valid_imei(device_id):
        return REJECT_INVALID_IMEI
    device = fleet.device(firmware.kind, device_id)
    if device is None:
        return REJECT_NOT_FOUND
    if (device.make, device.model) != (firmware.make, firmware.model):
        return REJECT_MODEL
    if not device.extra.get("fota_eligible", True):
        return REJECT_NOT_ELIGIBLE
    if not device.extra.get("license", True) and not auto_license:
        return REJECT_LICENSE
    active = fleet.active_job_of(device)
    if active is not None and active is not job:
        return REJECT_SCHEDULED
    if auto_license:
        device.extra["license"] = True
    return None


def reschedule(fleet: SimFleet, job: SimJob, plan: Schedule) -> None:
    """New dates/windows for a job that has not started: replan every target."""
    fleet.reschedule(job, plan.start_at, plan.end_at, list(plan.windows))
    touch(job)
