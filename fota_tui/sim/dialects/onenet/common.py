"""OneNET words and formats shared by the dialect modules.

Times: the legacy API speaks Beijing time (UTC+8) without a zone, ``YYYY-MM-DD HH:MM:SS``
in answers and ``YYYY-MM-DDTHH:MM:SS`` in requests; the piecewise log uses Java's
``Date.toString()`` (``Wed Dec 02 09:02:24 CST 2020``). Errors are HTTP 200 with
``{"errno", "error"}`` (docs/platforms/onenet.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from fota_tui.sim.fleet import Reason

BEIJING = timezone(timedelta(hours=8), "CST")

# errno values (docs/platforms/onenet.md)
ERR_AUTH = 1
ERR_PARAM = 3
ERR_INTERNAL = 7
ERR_OFFLINE = 2001
ERR_LOGIC = 5006
ERR_UNSUCCESS = 5106
ERR_INVALID = 5108
ERR_RPC = 5117

# send_status (docs/platforms/onenet.md); 7 and 8 both mean "undefined".
WAIT, CANCELLED, SENT, EXPIRED, SUCCESS, FAILED, UNDEFINED_7, UNDEFINED = 1, 2, 3, 4, 5, 6, 7, 8

CONFIRM_NAMES = (
    "SUCCESS",
    "METHOD_NOT_ALLOWED",
    "FORBIDDEN",
    "NOT_FOUND",
    "INTERNAL_SERVER_ERROR",
    "TIME_OUT",
    "REQ_PARAM_ERROR",
    "RESP_ERROR",
    "UNAUTHORIZED",
    "BAD_REQUEST",
    "NOT_ACCEPTABLE",
    "UNSUPPORTED_CONTENT_FORMAT",
    "OFFLINE",
    "ADDR_OCCUPIED",
)

# LwM2M Firmware Update object (5): resource ids and State values.
FOTA_OBJ, FOTA_INST, RES_URI, RES_UPDATE, RES_STATE, RES_RESULT = 5, 0, 1, 2, 3, 5
STATE_IDLE, STATE_DOWNLOADING, STATE_DOWNLOADED, STATE_UPDATING = 0, 1, 2, 3


class ApiError(Exception):
    """A platform rejection: answered as HTTP 200 ``{errno, error}``."""

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(message)
        self.errno = errno
        self.message = message


@dataclass(frozen=True)
class Outcome:
    """How one failed FOTA pair looks: (send_status, confirm name) of each command and
    the object-5 Update Result the device reports. ``write=None`` means the write went
    through (the failure happened after the package URI was accepted)."""

    write: tuple[int, str | None] | None
    execute: tuple[int, str | None]
    update_result: int


# Phase.FAILED + Reason → OneNET words, in one table.
OUTCOMES: dict[Reason, Outcome] = {
    Reason.DELIVERY_FAILED: Outcome((FAILED, None), (FAILED, None), 0),
    Reason.DEVICE_REJECTED: Outcome(
        (SUCCESS, "METHOD_NOT_ALLOWED"), (SUCCESS, "METHOD_NOT_ALLOWED"), 0
    ),
    Reason.INVALID_URI: Outcome((SUCCESS, "BAD_REQUEST"), (SUCCESS, "METHOD_NOT_ALLOWED"), 7),
    Reason.DEVICE_TIMEOUT: Outcome(None, (SUCCESS, "TIME_OUT"), 8),
    Reason.CONNECTION_LOST: Outcome(None, (SUCCESS, "OFFLINE"), 4),
    Reason.DOWNLOAD_FAILED: Outcome(None, (SUCCESS, "INTERNAL_SERVER_ERROR"), 4),
    Reason.OUT_OF_STORAGE: Outcome(None, (SUCCESS, "NOT_ACCEPTABLE"), 2),
    Reason.OUT_OF_MEMORY: Outcome(None, (SUCCESS, "INTERNAL_SERVER_ERROR"), 3),
    Reason.INTEGRITY_CHECK_FAILED: Outcome(None, (SUCCESS, "RESP_ERROR"), 5),
    Reason.UNSUPPORTED_PACKAGE: Outcome(None, (SUCCESS, "UNSUPPORTED_CONTENT_FORMAT"), 6),
    Reason.UPDATE_FAILED: Outcome(None, (FAILED, None), 8),
    # The platform itself cannot say what happened: send_status 8 (or 7, see commands).
    Reason.LOW_BATTERY: Outcome(None, (UNDEFINED, None), 8),
}
DEFAULT_OUTCOME = Outcome(None, (FAILED, None), 8)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def bj(when: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in Beijing time, no zone (answers)."""
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def bj_request(when: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in Beijing time, no zone (request parameters)."""
    return when.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M:%S")


def java_date(when: datetime) -> str:
    """Java ``Date.toString()`` in the server's zone: ``Wed Dec 02 09:02:24 CST 2020``."""
    local = when.astimezone(BEIJING)
    return (
        f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:02d} "
        f"{local:%H:%M:%S} CST {local.year}"
    )


def log_stamp(when: datetime) -> str:
    """Inner log timestamps: ``2021-01-02 09:02:24:185`` (a colon before the ms)."""
    local = when.astimezone(BEIJING)
    return f"{local:%Y-%m-%d %H:%M:%S}:{local.microsecond // 1000:03d}"


def parse_bj(value: str, name: str) -> datetime:
    """A request time (Beijing, no zone) as aware UTC; errno 5108 when malformed."""
    text = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=BEIJING).astimezone(UTC)
        except ValueError:
            continue
    raise ApiError(ERR_INVALID, f"invalid parameter: {name} must look like 2016-08-05T08:00:00")


def confirm_code(name: str) -> int:
    return CONFIRM_NAMES.index(name)
