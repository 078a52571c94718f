"""AOVX JSON as lenient pydantic models (docs/platforms/aovx.md, seed page 000).

Lenient where the docs disagree with the wire: ``total``/``size`` arrive as numbers or
strings, ids and numbers-as-text may be either type, optional fields may be absent or
null, extra fields are ignored. ``status`` and ``upgradeInfo`` are kept as sent (any type)
and interpreted in ``normalize``, so an odd value never fails a whole page.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _int_or_none(value: Any) -> Any:
    """Numbers that may come as text (``"12"``), floats with no fraction, or blanks."""
    value = _blank_to_none(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


LaxInt = Annotated[int | None, BeforeValidator(_int_or_none)]
LaxStr = Annotated[str | None, BeforeValidator(_blank_to_none)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


class Envelope(Wire):
    """``{"code": 200, "message": "Operation succeeded", "data": …}``."""

    code: Annotated[int, BeforeValidator(_int_or_none)]
    message: LaxStr = None
    data: Any = None


class LoginData(Wire):
    token_id: Annotated[str, BeforeValidator(_blank_to_none)] = Field(alias="tokenId")
    user_id: LaxStr = Field(None, alias="userId")
    org_name: LaxStr = Field(None, alias="orgName")
    time_diff: LaxInt = Field(None, alias="timeDiff")  # seconds
    login_time: LaxStr = Field(None, alias="loginTime")  # ISO-8601 Z
    login_timestamp: LaxInt = Field(None, alias="loginTimestamp")  # epoch ms


class Page(Wire):
    """``{total, size (= number of pages), data: [...]}``; counts may be strings."""

    total: LaxInt = None
    size: LaxInt = None
    data: list[dict[str, Any]] | None = None

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.data or []


class OtaRecord(Wire):
    """One row of ``queryTerminalOtaReport``."""

    terminal_id: Annotated[str, BeforeValidator(_blank_to_none)] = Field(alias="terminalId")
    terminal_num: LaxStr = Field(None, alias="terminalNum")
    upgrade_info: Any = Field(None, alias="upgradeInfo")  # a JSON *string*, kept raw
    status: Any = None  # -1/1/2/3/4, kept raw
    send_time: LaxStr = Field(None, alias="sendTime")
    send_timestamp: LaxInt = Field(None, alias="sendTimestamp")
    date_time: LaxStr = Field(None, alias="dateTime")
    date_timestamp: LaxInt = Field(None, alias="dateTimestamp")
    mark: LaxStr = None


class Terminal(Wire):
    """One row of ``queryLoginUserTerminalInfoList`` (and the body of ``queryTerminalInfo``)."""

    id: Annotated[str, BeforeValidator(_blank_to_none)]
    terminal_num: LaxStr = Field(None, alias="terminalNum")
    custom_num: LaxStr = Field(None, alias="customNum")
    org_name: LaxStr = Field(None, alias="orgName")
    vehicle_num: LaxStr = Field(None, alias="vehicleNum")
    type_id: LaxInt = Field(None, alias="typeId")
    type_name: LaxStr = Field(None, alias="typeName")
    sim_num: LaxStr = Field(None, alias="simNum")
    iccid: LaxStr = None
    imei: LaxStr = None
    status: Any = None  # 0 disabled / 1 enabled
    desc_info: LaxStr = Field(None, alias="descInfo")
    expire_time: LaxStr = Field(None, alias="expireTime")
    create_time: LaxStr = Field(None, alias="createTime")


class TerminalStatus(Wire):
    online_status: LaxInt = Field(None, alias="onlineStatus")
    rtime: LaxStr = None


class TerminalInfo(Terminal):
    terminal_status: TerminalStatus | None = Field(None, alias="terminalStatus")


class OnlineStatus(Wire):
    """``queryTerminalOnlineStatus``: ``acc`` is absent when invalid."""

    terminal_id: LaxStr = Field(None, alias="terminalId")
    online_status: LaxInt = Field(None, alias="onlineStatus")
    acc: LaxInt = None
    gnss_time: LaxStr = Field(None, alias="gnssTime")
    recv_time: LaxStr = Field(None, alias="recvTime")
