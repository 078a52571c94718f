"""Query and body parameters of the OneNET API, rejected the platform's way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fota_tui.sim.dialects.onenet.common import (
    ERR_INVALID,
    ERR_LOGIC,
    ERR_PARAM,
    ApiError,
    parse_bj,
)
from fota_tui.sim.http import SimRequest

MAX_CONTENT = 2048  # command bodies are limited to 2 KB


def int_param(
    request: SimRequest,
    name: str,
    *,
    default: int | None = None,
    lo: int | None = None,
    hi: int | None = None,
) -> int:
    raw = request.query.get(name, "").strip()
    if not raw:
        if default is None:
            raise ApiError(ERR_PARAM, f"parameter required: {name}")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(ERR_INVALID, f"invalid parameter: {name} must be an integer") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ApiError(ERR_LOGIC, f"system logic limit: {name} must be between {lo} and {hi}")
    return value


def windows(request: SimRequest, now: datetime) -> tuple[datetime, datetime]:
    """``valid_time`` (default now, must be later than now) and ``expired_time``."""
    raw_valid = request.query.get("valid_time", "").strip()
    valid = parse_bj(raw_valid, "valid_time") if raw_valid else now
    if raw_valid and valid <= now:
        raise ApiError(ERR_LOGIC, "system logic limit: valid_time must be later than now")
    raw_expired = request.query.get("expired_time", "").strip()
    if not raw_expired:
        raise ApiError(ERR_PARAM, "parameter required: expired_time")
    expired = parse_bj(raw_expired, "expired_time")
    if expired <= valid:
        raise ApiError(ERR_LOGIC, "system logic limit: expired_time must be later than valid_time")
    return valid, expired


def content_param(request: SimRequest, *, required: bool) -> Any:
    if len(request.body) > MAX_CONTENT:
        raise ApiError(ERR_LOGIC, "system logic limit: command content exceeds 2 KB")
    if not request.body.strip():
        if required:
            raise ApiError(ERR_PARAM, "parameter required: data")
        return None
    return request.json()
