"""OceanConnect dialect plumbing: error codes, the time format, 0-based paging.

Error body shape ``{"error_code": "...", "error_desc": "..."}`` is inferred (widely
observed, not printed verbatim in the docs; docs/platforms/oceanconnect.md). Codes and texts for task
creation are the seed page's (004), typos included. Codes marked [I] below are the
simulator's choice where the docs give none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

IODM = "/iodm/northbound/v1.5.0"
TIME_FORMAT = "%Y%m%dT%H%M%SZ"  # yyyyMMdd'T'HHmmss'Z'
_TIME_RE = re.compile(r"^\d{8}T\d{6}Z$")
FILE_ID_RE = re.compile(r"^[0-9a-f]{24}$")
MAX_TARGETS = 256

# code → (HTTP status, error_desc)
ERRORS: dict[str, tuple[int, str]] = {
    "120015": (400, "Bad request error."),
    "123002": (404, "Device or package file not found."),
    "123009": (404, "The task does not exist."),
    "123016": (400, "The parameter is error, targetversion not match with device."),
    "123019": (400, "manufacturerName is null."),
    "123020": (400, "deviceType is null"),
    "123021": (400, "model is null."),
    "123022": (400, "deviceGroups and devices cannot be null together"),
    "123023": (400, "deviceGroups and devices cannot be exist together"),
    "123024": (400, "The number of deviceGroups or devices reached upper limit"),
    "123025": (400, "executeType is error or can not to be null."),
    "123026": (400, "startTime or endTime is null or error."),
    "123028": (400, "retryTimes is null or beyond the limit."),
    "123029": (400, "pageNo or pageSize beyond the limit."),
    "123032": (400, "startTime can not be later than the endTime."),
    "123033": (400, "startTime can not be earlier than the now."),
    "123034": (400, "endtime must be greater than 5 minutes."),
    "1010005": (403, "App_key or access_token is invalid."),
    "1010009": (403, "app throttle exceed."),
    "100208": (401, "AppId or secret is not right."),
    "102202": (400, "Required Parameter is null or empty."),
    "100220": (500, "Get app key from header failed."),
    "50252": (500, "Internal server error."),
    "100006": (400, "Invalid refresh token."),  # [I]
    "100022": (400, "The input is invalid."),  # [I] gatewayId and pageNo both empty
    "100403": (404, "The device is not existed."),  # [I]
    "100602": (404, "The device group is not existed."),  # [I]
}


class ApiError(Exception):
    """Raised inside a handler; the dialect answers it in the platform envelope."""

    def __init__(self, code: str) -> None:
        self.status, self.desc = ERRORS[code]
        self.code = code
        super().__init__(f"{code} {self.desc}")


def fmt_time(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime(TIME_FORMAT) if when is not None else None


def parse_time(text: Any) -> datetime | None:
    """``yyyyMMdd'T'HHmmss'Z'`` → aware UTC; None when absent or malformed."""
    if not isinstance(text, str) or not _TIME_RE.match(text):
        return None
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not re.fullmatch(r"-?\d{1,9}", text.strip()):
        raise ApiError("123029")
    return int(text)


def paging(query: dict[str, str], *, default_size: int, max_size: int) -> tuple[int | None, int]:
    """``(pageNo, pageSize)``; pageNo is None when absent (no paging)."""
    page_no = _int(query.get("pageNo"))
    page_size = _int(query.get("pageSize"))
    size = default_size if page_size is None else page_size
    if (page_no is not None and page_no < 0) or not 1 <= size <= max_size:
        raise ApiError("123029")
    return page_no, size


T = TypeVar("T")


def page_of(items: Sequence[T], page_no: int | None, page_size: int) -> Sequence[T]:
    if page_no is None:
        return items
    start = page_no * page_size
    return items[start : start + page_size]


def paged(
    items: Sequence[Any], page_no: int | None, page_size: int, render: Any, key: str = "data"
) -> dict[str, Any]:
    """The IODM page envelope ``{data, pageNo, pageSize, totalCount}``."""
    return {
        key: [render(item) for item in page_of(items, page_no, page_size)],
        "pageNo": page_no if page_no is not None else 0,
        "pageSize": page_size,
        "totalCount": len(items),
    }
