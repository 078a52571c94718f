"""OneNET (legacy api.heclouds.com) JSON as lenient pydantic models.

Unknown fields are ignored and the documented quirks are coerced here (docs/platforms/onenet.md):
ids that are numbers in some answers and strings in others, ``remain`` sent as a string,
``cmd_uuid`` with a trailing space, ``send_time``/``confirm_time`` absent until they
happen, and times in Beijing time without a zone. Status values stay raw (``Any``);
``normalize`` maps them. Structurally wrong JSON raises ``ProviderProtocolError``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError

from fota_tui.errors import ProviderProtocolError

BEIJING = timezone(timedelta(hours=8))
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


def parse_beijing(value: str) -> datetime | None:
    """``2017-08-28 11:34:58`` (Beijing, no zone) as aware UTC; None when unparseable."""
    text = value.strip()
    if not text:
        return None
    if len(text) == 23 and text[19] == ":":  # log style "2021-01-02 09:02:24:185"
        text = f"{text[:19]}.{text[20:]}"
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=BEIJING).astimezone(UTC)
        except ValueError:
            continue
        except OverflowError:  # Go's zero time 0001-01-01 00:00:00 is before year 1 in UTC
            return None
    return None


def to_beijing(when: datetime) -> str:
    """A request time: ``YYYY-MM-DDTHH:MM:SS`` in Beijing time, no zone."""
    return when.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M:%S")


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a time string")
    return parse_beijing(value)


def _string_id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a string or number id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


MAX_DIGITS = 18  # longer numbers are not ids or counters (and int() refuses 4300+ digits)


def int_text(text: str, *, signed: bool = False) -> int | None:
    """``text`` as an int when it is ASCII digits (an optional ``-`` if ``signed``), at most
    ``MAX_DIGITS`` long; None otherwise (``"²"`` is a digit to ``str.isdigit``)."""
    text = text.strip()
    digits = text.removeprefix("-") if signed else text
    if digits.isascii() and digits.isdigit() and len(digits) <= MAX_DIGITS:
        return int(text)
    return None


def _loose_int(value: Any) -> int | None:
    """Documented int, sent as "3" (``remain``); blank or non-numeric text → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int_text(value, signed=True)
    raise ValueError("expected an integer")


def _loose_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise ValueError("expected a boolean")


def _list(value: Any) -> Any:
    return [] if value is None else value


BjTime = Annotated[datetime | None, BeforeValidator(_time)]
StrId = Annotated[str, BeforeValidator(_string_id)]
LooseInt = Annotated[int | None, BeforeValidator(_loose_int)]
LooseBool = Annotated[bool | None, BeforeValidator(_loose_bool)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Command(_Wire):
    """One item of ``GET /nbiot/offline/history`` (and the base of the detail)."""

    cmd_uuid: StrId
    type: str | None = None
    create_time: BjTime = None
    valid_time: BjTime = None
    expired_time: BjTime = None
    send_time: BjTime = None
    confirm_time: BjTime = None
    feedback_time: BjTime = None
    send_status: Any = None  # documented int; kept raw (7/8/unknown values survive)
    confirm_status: Any = None  # a name ("SUCCESS") or a number, as int or string
    imei: Annotated[str | None, BeforeValidator(_string_id)] = None
    remain: LooseInt = None
    trigger_msg: LooseInt = None

    @property
    def kind(self) -> str:
        return (self.type or "").strip().upper()


class CommandPage(_Wire):
    total_count: LooseInt = 0
    items: Annotated[list[Command], BeforeValidator(_list)] = []


class CommandDetail(Command):
    """``GET /nbiot/offline/history/{uuid}``: the list fields plus what was sent."""

    cmd_uuid: StrId = ""
    args: Any = None
    content: Any = None
    cmd_result: Any = None
    feedback_msg: Any = None


class DeviceRecord(_Wire):
    """One device of ``GET /devices`` (``id`` is a number in some records)."""

    id: StrId
    title: str | None = None
    desc: str | None = None
    protocol: str | None = None
    online: LooseBool = None
    create_time: BjTime = None
    auth_info: Any = None  # NB-IoT devices: {"<imei>": "<imsi>"}; documented as a string
    tags: Annotated[list[str], BeforeValidator(_list)] = []
    other: dict[str, Any] | None = None

    @property
    def imei(self) -> str | None:
        info = self.auth_info
        if isinstance(info, dict):
            return next((str(k).strip() for k in info if str(k).strip().isdigit()), None)
        if isinstance(info, str | int) and str(info).strip().isdigit():
            return str(info).strip()
        return None


class DevicePage(_Wire):
    total_count: LooseInt = 0
    page: LooseInt = None
    per_page: LooseInt = None
    devices: Annotated[list[DeviceRecord], BeforeValidator(_list)] = []


class DeviceByImei(_Wire):
    """``GET /devices/getbyimei``: ``id`` is a string here."""

    id: StrId
    title: str | None = None
    online: LooseBool = None
    create_time: BjTime = None
    observe_status: LooseBool = None


class Created(_Wire):
    uuid: StrId


class Resource(_Wire):
    res_id: LooseInt = None
    val: Any = None


class Instance(_Wire):
    obj_inst_id: LooseInt = None
    res: Annotated[list[Resource], BeforeValidator(_list)] = []


M = TypeVar("M", bound=BaseModel)


def parse(provider: str, model: type[M], data: Any, what: str) -> M:
    """Validate ``data`` as ``model`` or raise ``ProviderProtocolError`` naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProviderProtocolError(provider, f"{what}: {_first_error(exc)}") from None


def parse_list(provider: str, model: type[M], data: Any, what: str) -> list[M]:
    try:
        return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise ProviderProtocolError(provider, f"{what}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "body"
    return f"{where}: {err.get('msg', 'invalid')}"
