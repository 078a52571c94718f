"""OceanConnect JSON as lenient pydantic models (unknown fields ignored).

Coercions for the documented quirks: ``expiresIn`` may be a string; times are
``yyyyMMdd'T'HHmmss'Z'`` (the Go sample also accepts an offset) and may be null;
counters and paging numbers may arrive as strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from fota_tui.errors import ProviderProtocolError

_OC_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:Z|([+-])(\d{2}):?(\d{2}))?$")


def parse_time(value: Any) -> datetime | None:
    """``20151212T121212Z`` (or ``…+08:00``, or ISO-8601) → aware UTC; null/"" → None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a time string, got {type(value).__name__}")
    m = _OC_TIME.match(value.strip())
    if m:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        tz: timezone = UTC
        if m.group(7):
            offset = timedelta(hours=int(m.group(8)), minutes=int(m.group(9)))
            tz = timezone(offset if m.group(7) == "+" else -offset)
        return _utc(datetime(year, month, day, hour, minute, second, tzinfo=tz), value)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"unrecognised time {value!r}") from None
    return _utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), value)


def _utc(when: datetime, raw: str) -> datetime:
    try:
        return when.astimezone(UTC)
    except OverflowError:  # 99991231T235959-08:00 is past year 9999 in UTC
        raise ValueError(f"time {raw!r} is out of range") from None


def format_time(value: datetime) -> str:
    """Aware datetime → ``yyyyMMdd'T'HHmmss'Z'`` (UTC)."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _to_int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def _to_str(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _null_list(value: Any) -> Any:
    return [] if value is None else value


Time = Annotated[datetime | None, BeforeValidator(parse_time)]
Int = Annotated[int, BeforeValidator(_to_int)]
Str = Annotated[str, BeforeValidator(_to_str)]
OptStr = Annotated[str | None, BeforeValidator(_to_str)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TokenResponse(Wire):
    accessToken: str = Field(min_length=1)
    refreshToken: str | None = None
    expiresIn: Int = 3600
    tokenType: str | None = None
    scope: str | None = None


class ErrorBody(Wire):
    """``{"error_code": "...", "error_desc": "..."}`` (shape inferred, docs/platforms/oceanconnect.md)."""

    error_code: OptStr = None
    error_desc: OptStr = None


class CategoryInfo(Wire):
    fileId: Str
    name: OptStr = None
    version: OptStr = None
    fileType: str | None = None
    deviceType: str | None = None
    model: str | None = None
    manufacturerName: str | None = None
    protocolType: str | None = None
    description: str | None = None
    date: OptStr = None
    uploadTime: Time = None


class Page(Wire):
    pageNo: Int = 0
    pageSize: Int = 0
    totalCount: Int = 0


class CategoryPage(Page):
    data: Annotated[list[CategoryInfo], BeforeValidator(_null_list)] = []


class StaResult(Wire):
    total: Int = 0
    wait: Int = 0
    processing: Int = 0
    success: Int = 0
    fail: Int = 0
    stop: Int = 0
    timeout: Int = 0


class OperateDevices(Wire):
    deviceGroups: list[str] | None = None
    devices: list[str] | None = None
    deviceType: str | None = None
    model: str | None = None
    manufacturerName: str | None = None


class OperatePolicy(Wire):
    executeType: str | None = None
    startTime: Time = None
    endTime: Time = None
    retryType: Any = None
    retryTimes: Int | None = None


class OperationInfo(Wire):
    operationId: Str
    createTime: Time = None
    startTime: Time = None
    stopTime: Time = None
    operateType: str | None = None
    targets: OperateDevices | None = None
    policy: OperatePolicy | None = None
    status: Any = None
    staResult: StaResult | None = None
    extendPara: dict[str, Any] | None = None


class OperationPage(Page):
    data: Annotated[list[OperationInfo], BeforeValidator(_null_list)] = []


class SubOperationInfo(Wire):
    subOperationId: OptStr = None
    createTime: Time = None
    startTime: Time = None
    stopTime: Time = None
    operateType: str | None = None
    deviceId: Str
    status: Any = None
    detailInfo: OptStr = None
    extendInfo: dict[str, Any] | str | None = None


class SubOperationPage(Page):
    data: Annotated[list[SubOperationInfo], BeforeValidator(_null_list)] = []


class DeviceInfo(Wire):
    nodeId: OptStr = None
    name: OptStr = None
    manufacturerId: OptStr = None
    manufacturerName: OptStr = None
    deviceType: OptStr = None
    model: OptStr = None
    swVersion: OptStr = None
    fwVersion: OptStr = None
    status: Any = None


class QueryDevice(Wire):
    deviceId: Str
    gatewayId: OptStr = None
    nodeType: str | None = None
    creationTime: Time = None
    lastModifiedTime: Time = None
    deviceInfo: DeviceInfo | None = None


class DevicePage(Page):
    devices: Annotated[list[QueryDevice], BeforeValidator(_null_list)] = []


class GroupInfo(Wire):
    id: Str
    name: str | None = None


class GroupPage(Page):
    """``GET /iocm/app/devgroup/v1.3.0/devGroups`` [inferred]."""

    groups: Annotated[list[GroupInfo], BeforeValidator(_null_list)] = Field([], alias="list")


class MemberPage(Page):
    """``GET /iocm/app/dm/v1.2.0/devices/ids?devGroupId=`` [inferred]."""

    deviceIds: Annotated[list[Str], BeforeValidator(_null_list)] = []


class CreateTaskResponse(Wire):
    operationId: Str = Field(min_length=1)


M = TypeVar("M", bound=BaseModel)


def load(provider: str, model: type[M], data: Any, what: str) -> M:
    """Validate ``data`` as ``model`` or raise ``ProviderProtocolError`` naming ``what``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ProviderProtocolError(
            provider, f"{what}: unexpected {where}: {first['msg']}"
        ) from None
