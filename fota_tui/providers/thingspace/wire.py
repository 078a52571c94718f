"""ThingSpace JSON as lenient pydantic models (docs/platforms/thingspace.md).

Unknown fields are ignored; documented quirks are coerced here so the rest of the
adapter sees one shape: ids and IMEIs always strings (never floats), ``lastSeen…``
cursors as strings whether the platform sent a number or a string, both
``lastSeenUpgradeId`` and the ``lastSeenUpgrdadeId`` typo, flags sent as ``"false"``,
time-window hours as ints or strings, ``campaignTimeWindowList`` vs ``timeWindowList``,
``campaignId`` vs ``id`` in v3 history, ``Reason`` vs ``reason``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from fota_tui.errors import ProviderProtocolError


def _id_text(value: Any) -> Any:
    """Numbers → digit strings without float artefacts (IMEIs, numeric cursors)."""
    if isinstance(value, bool):
        raise ValueError("expected a string or number, got a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected an integral id, got {value!r}")
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return value


def _flag(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _hour(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


IdText = Annotated[str, BeforeValidator(_id_text)]
Flag = Annotated[bool | None, BeforeValidator(_flag)]
Hour = Annotated[int, BeforeValidator(_hour)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)


# -- auth ----------------------------------------------------------------------
class TokenAnswer(Wire):
    access_token: str = Field(min_length=1)
    token_type: str | None = None
    expires_in: float | None = None
    scope: str | None = None


class SessionAnswer(Wire):
    sessionToken: str = Field(min_length=1)


class ErrorAnswer(Wire):
    """``{errorCode, errorMessage}``; OAuth's ``{error, error_description}``; gateway faults."""

    errorCode: str | None = None
    errorMessage: str | None = None
    error: str | None = None
    error_description: str | None = None
    fault: dict[str, Any] | None = None

    @property
    def code(self) -> str | None:
        fault_code = self.fault.get("code") if self.fault else None
        return self.errorCode or self.error or (str(fault_code) if fault_code else None)

    @property
    def message(self) -> str | None:
        fault = self.fault or {}
        text = fault.get("description") or fault.get("message")
        return self.errorMessage or self.error_description or (str(text) if text else None)


# -- firmware --------------------------------------------------------------------
class V1Firmware(Wire):
    firmwareName: str
    participantName: str | None = None
    launchDate: str | None = None
    releaseNote: str | None = None
    model: str | None = None
    make: str | None = None
    fromVersion: str | None = None
    toVersion: str | None = None


class V3Firmware(Wire):
    firmwareName: str
    firmwareFrom: str | None = None
    firmwareTo: str | None = None
    launchDate: str | None = None
    releaseNote: str | None = None
    model: str | None = None
    make: str | None = None
    protocol: str | None = None


# -- v1 upgrades -------------------------------------------------------------------
class V1UpgradeDevice(Wire):
    deviceId: IdText
    status: Any = None
    resultReason: str | None = Field(
        None, validation_alias=AliasChoices("resultReason", "reason", "Reason")
    )


class V1Upgrade(Wire):
    id: IdText
    accountName: str | None = None
    firmwareName: str | None = None
    firmwareTo: str | None = None
    startDate: str | None = None
    endDate: str | None = None
    status: Any = None
    deviceList: list[V1UpgradeDevice] = Field(default_factory=list)


class V1Report(Wire):
    hasMoreFlag: Flag = False
    lastSeenUpgradeId: IdText | None = None
    lastSeenUpgrdadeId: IdText | None = None  # the seed page's spelling
    reportList: list[V1Upgrade] = Field(default_factory=list)

    @property
    def cursor(self) -> str | None:
        return self.lastSeenUpgradeId or self.lastSeenUpgrdadeId


class V1History(Wire):
    deviceId: IdText
    id: IdText | None = None
    accountName: str | None = None
    firmwareFrom: str | None = None
    firmwareTo: str | None = None
    startDate: str | None = None
    upgradeStartTime: str | None = None
    status: Any = None
    reason: str | None = Field(None, validation_alias=AliasChoices("reason", "resultReason"))


class V1Device(Wire):
    deviceId: IdText
    mdn: IdText | None = None
    model: str | None = None
    make: str | None = None
    firmware: str | None = None
    fotaEligible: Flag = None
    licenseAssigned: Flag = None
    upgradeTime: str | None = None


class V1DevicePage(Wire):
    accountName: str | None = None
    hasMoreData: Flag = False
    lastSeenDeviceId: IdText | None = None  # a JSON number on the wire
    deviceList: list[V1Device] = Field(default_factory=list)


# -- add/remove devices (v1 and v3) ----------------------------------------------------
class ChangeItem(Wire):
    deviceId: IdText
    status: Any = None
    reason: str | None = Field(None, validation_alias=AliasChoices("Reason", "reason"))


class ChangeAnswer(Wire):
    accountName: str | None = None
    deviceList: list[ChangeItem] = Field(default_factory=list)


# -- v3 campaigns ----------------------------------------------------------------------
class TimeWindow(Wire):
    startTime: Hour
    endTime: Hour


class V3Campaign(Wire):
    id: IdText
    accountName: str | None = None
    campaignName: str | None = None
    firmwareName: str | None = None
    firmwareFrom: str | None = None
    firmwareTo: str | None = None
    protocol: str | None = None
    make: str | None = None
    model: str | None = None
    status: Any = None
    startDate: str | None = None
    endDate: str | None = None
    windows: list[TimeWindow] = Field(
        default_factory=list,
        validation_alias=AliasChoices("campaignTimeWindowList", "timeWindowList"),
    )
    autoAssignLicenseFlag: Flag = None
    autoAddDevicesFlag: Flag = None


class V3CampaignPage(Wire):
    hasMoreData: Flag = False
    lastSeenCampaignId: IdText | None = None
    campaignList: list[V3Campaign] = Field(default_factory=list)


class V3CampaignDevice(Wire):
    deviceId: IdText
    status: Any = None
    resultReason: str | None = Field(
        None, validation_alias=AliasChoices("resultReason", "reason", "Reason")
    )
    updatedTime: str | None = None
    recentAttemptTime: str | None = None
    nextAttemptTime: str | None = None


class V3DevicePage(Wire):
    totalDevice: int | None = None
    hasMoreData: Flag = False
    lastSeenDeviceId: IdText | None = None
    maxPageSize: int | None = None
    deviceList: list[V3CampaignDevice] = Field(default_factory=list)


class V3History(Wire):
    deviceId: IdText
    campaignId: IdText | None = Field(None, validation_alias=AliasChoices("campaignId", "id"))
    accountName: str | None = None
    firmwareName: str | None = None
    firmwareFrom: str | None = None
    firmwareTo: str | None = None
    startDate: str | None = None
    reportUpdatedTime: str | None = None
    status: Any = None
    reason: str | None = Field(None, validation_alias=AliasChoices("reason", "resultReason"))


# -- parsing ---------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def parse(provider: str, shape: Any, data: Any, what: str) -> Any:
    """Validate ``data`` as ``shape`` (a model or a ``list[...]``), or raise
    ``ProviderProtocolError`` naming the first bad field."""
    try:
        result = _adapter(shape).validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ProviderProtocolError(
            provider, f"{what}: unexpected JSON at {where}: {first['msg']}"
        ) from None
    return result
